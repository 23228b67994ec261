package views

import (
	"errors"
	"fmt"

	"github.com/elsewhere-dev/elsewhere/models"
)

// Problem puts what is wrong with an email or a new password in words for a person.
func Problem(err error) string {
	switch {
	case errors.Is(err, models.ErrEmailMissing):
		return "Enter your email address."
	case errors.Is(err, models.ErrEmailTooLong):
		return fmt.Sprintf("That email address is too long (at most %d characters).", models.MaxEmailLen)
	case errors.Is(err, models.ErrEmailInvalid):
		return "That does not look like an email address."
	case errors.Is(err, models.ErrPasswordInvalid):
		return "The password contains characters that are not valid text."
	case errors.Is(err, models.ErrPasswordTooShort):
		return fmt.Sprintf("Use at least %d characters for the password.", models.MinPasswordLen)
	case errors.Is(err, models.ErrPasswordTooLong):
		return fmt.Sprintf("Use at most %d characters for the password.", models.MaxPasswordLen)
	case errors.Is(err, models.ErrPasswordCommon):
		return "That password is one of the most common ones and easy to guess. Choose another."
	case errors.Is(err, models.ErrDeviceNameTooLong):
		return fmt.Sprintf("Use at most %d characters for the name.", models.MaxDeviceName)
	case errors.Is(err, models.ErrDeviceNameInvalid):
		return "The name contains characters that cannot be shown."
	case errors.Is(err, models.ErrDeviceUnnamed):
		return "This device signed in before devices could be named. Sign in on it again to name it."
	case err != nil:
		return "That was not accepted."
	}
	return ""
}

// EventText is the sentence the security log and the notice show for an event.
func EventText(e models.Event) string {
	switch e.Kind {
	case models.EventSignedIn:
		return "Signed in on " + e.Detail
	case models.EventSignedOut:
		return "Signed out on " + e.Detail
	case models.EventSessionRevoked:
		return "Signed out " + e.Detail
	case models.EventOthersRevoked:
		return "Logged out " + devices(e, "other device", "other devices")
	case models.EventPasswordChanged:
		if e.Detail == "" {
			return "Password changed; other devices stay signed in"
		}
		if _, ok := e.Count(); !ok {
			return "Password changed; " + e.Detail // written in words by an older version
		}
		return "Password changed; " + devices(e, "other device", "other devices") + " signed out"
	case models.EventStampMismatch:
		return e.Detail + " was signed out because the password changed"
	case models.EventConfirmFailed:
		return "Wrong password given to confirm an action on " + e.Device
	case models.EventConfirmRefused:
		return "A password was tried on " + e.Device + " while confirming was locked there"
	case models.EventLockedOut:
		return "Confirmation locked on " + e.Device + " after too many wrong passwords"
	case models.EventGuessedOut:
		return e.Detail + " was signed out after too many wrong passwords"
	case models.EventSessionLimit:
		return e.Detail + " was signed out: it was the least recently used of too many signed-in devices"
	case models.EventOperatorRevoked:
		return "An administrator signed out " + devices(e, "device", "devices")
	case models.EventDeviceLost:
		return e.Detail + " was signed out as lost or stolen; the password was changed and every other device signed out"
	case models.EventPasswordReset:
		return "Password reset from a mailed link; " + devices(e, "device", "devices") + " signed out"
	case models.EventAccountRecovered:
		return "\u201cThis wasn\u2019t me\u201d: " + devices(e, "device", "devices") + " signed out and the password changed"
	case models.EventNewDevice:
		return "A new device signed in: " + e.Detail
	case models.EventDeviceBound:
		return e.Detail + " bound its sign-in to a key that never leaves the device"
	case models.EventKeyMissing:
		return e.Detail + ": this device's sign-in was used without its key"
	case models.EventPasskeyAdded:
		return "Passkey added: " + e.Detail
	case models.EventPasskeyRemoved:
		return "Passkey removed: " + e.Detail
	case models.EventPasskeyRenamed:
		if e.Detail == "" {
			return "A passkey's name was taken away"
		}
		return "A passkey was named \u201c" + e.Detail + "\u201d"
	case models.EventPasskeysRevoked:
		return "Passkeys removed so no one else keeps them: " + e.Detail
	case models.EventDeviceNamed:
		if e.Detail == "" {
			return "A device's name was taken away"
		}
		return "A device was named \u201c" + e.Detail + "\u201d"
	}
	return string(e.Kind)
}

// maxDeviceName is the longest name the rename field takes.
const maxDeviceName = models.MaxDeviceName

// EventLine is an entry as the security log and the alert mails show it: EventText, and
// for a change one device made to others, which device made it ("Password changed; 2
// other devices signed out, from Mac · Chrome 143"). Entries whose text names their
// device already (signed in on, wrong password on) are left as they are.
func EventLine(e models.Event) string {
	text := EventText(e)
	switch e.Kind {
	case models.EventSessionRevoked, models.EventOthersRevoked, models.EventPasswordChanged, models.EventDeviceLost,
		models.EventPasswordReset, models.EventAccountRecovered, models.EventDeviceNamed, models.EventPasskeyAdded,
		models.EventPasskeyRemoved:
		if e.Device != "" {
			text += ", from " + e.Device
		}
	}
	return text
}

// devices says the count of devices an event signed out ("2 other devices"); a detail
// an older version wrote in words is shown as it is.
func devices(e models.Event, one, many string) string {
	n, ok := e.Count()
	if !ok {
		return e.Detail
	}
	return plural(n, one, many)
}
