package views

import "time"

// What the app tells a person, in one place: page titles and the sentences of answers.
const (
	TitleNotFound            = "Page not found"
	TextNotFound             = "There is nothing at this address."
	TitleMethodNotAllowed    = "Method not allowed"
	TextMethodNotAllowed     = "This address does not accept that kind of request."
	TextBadLogin             = "That email and password do not match an account."
	TitleSignIn              = "Sign in"
	TitleSignupClosed        = "Sign-up is closed"
	TextSignupClosed         = "New accounts are not being created here. Ask the administrator for one."
	TitleCreateAccount       = "Create account"
	TextEmailTaken           = "An account with that email already exists. Sign in instead."
	TitleNotSignedOut        = "Not signed out yet"
	TitleUnreadableForm      = "Unreadable form"
	TextUnreadableForm       = "The form could not be read. Reload the page and try again."
	TitleSomethingWrong      = "Something went wrong"
	TextPanic                = "The server could not finish this request. Nothing was changed that you did not see confirmed."
	TitleWrongAddress        = "Wrong address"
	TitleTooLarge            = "Request too large"
	TextTooLarge             = "That request was larger than this site accepts."
	TitleRefused             = "Request refused"
	TextCrossOrigin          = "This request came from another site and was refused."
	TitleFileNotFound        = "Not found"
	TextFileNotFound         = "There is no such file."
	TitlePasswordJustChanged = "Your password just changed"
	TextPasswordJustChanged  = "The password was changed on another device a moment ago, so nothing was done. Reload the page and try again with the current password."
	TitleBusy                = "Busy"
	TextBusy                 = "The server is busy. Please try again in a moment."
	TextFailed               = "The server could not finish this request. Please try again; if it keeps happening, quote the request id below."
	TextSignedOutElsewhere   = "You were signed out because your password changed or this device was signed out from another one."
	TextSignedOut            = "You are signed out."
	TextGuessedOut           = "This device was signed out after too many wrong passwords."
	TextEnterPassword        = "Enter your password to confirm."
	TextWrongPassword        = "That password is not right. Nothing was changed."
	TitleThisDevice          = "That is this device"
	TextThisDevice           = "To sign out the device you are using, use “Sign out” at the top of the page."
	TitleNoSuchDevice        = "No such device"
	TextNoSuchDevice         = "That device is not signed in to your account."
	TextChooseNewPassword    = "Choose a new password: whoever has the device may know the current one."
	TextEnterCurrentPassword = "Enter your current password."
	TextSamePassword         = "The new password is the same as the current one."
	TextPasswordChanged      = "Your password was changed."
	TitleSecurity            = "Security"
	TitleNameDevice          = "Rename a device"
	TextPasskeyRefused       = "That passkey was not accepted. Nothing was changed."
	TextNoPasskeys           = "This account has no passkeys yet. Use your password."
	TextTooManyPasskeys      = "This account has as many passkeys as it may keep. Remove one first."
	TitleNoSuchPasskey       = "No such passkey"
	TextNoSuchPasskey        = "That passkey is not one of your account's."
	TitleRenamePasskey       = "Rename a passkey"
)

// TextNotSignedOut says a sign-out could not be recorded and the device is still signed in.
const TextNotSignedOut = "The server could not end this device’s session, so this device is still signed in. " +
	"Try again in a moment. If it keeps failing, sign this device out from another one, or change your password."

// TextSignInLocked says sign-in is locked for this account or address, for wait.
func TextSignInLocked(wait time.Duration) string {
	return "Too many sign-in attempts for this account or from this network. Try again in " + WaitText(wait) + "."
}

// TextSignupLocked says sign-up is locked for this address, for wait.
func TextSignupLocked(wait time.Duration) string {
	return "Too many sign-up attempts from this network. Try again in " + WaitText(wait) + "."
}

// TextConfirmLocked says confirming is locked on this device, for wait.
func TextConfirmLocked(wait time.Duration) string {
	return "Too many wrong passwords were typed on this device, so confirming is locked here for " + WaitText(wait) +
		". From another device you are signed in on, your password works as usual."
}

// TextWrongAddress says which address the server answers at.
func TextWrongAddress(baseURL string) string {
	return "This server answers only at " + baseURL + ". Use that address."
}

// Mail: reset and "This wasn't me".
const (
	TitleSecureAccount = "Secure your account"
	TitleForgot        = "Forgot your password"
	TitleSetPassword   = "Set a new password"
	TitleLinkGone      = "This link doesn’t work"
	TextResetSent      = "If an account uses that email, we’ve sent it a link to set a new password. It works for an hour; check your spam folder if it doesn’t arrive."
	TextCodeGone       = "That code doesn’t work: it was mistyped, already used, or it has expired. Check the mail, or ask for a new one."
	TextTooManyResets  = "Too many reset links were asked for. Please try again later."
	TextTakenBack      = "Every device was signed out and your new password is set. Sign in with it."
	TextResetDone      = "Your new password is set and every device was signed out. Sign in with it."
)
