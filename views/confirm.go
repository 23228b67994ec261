package views

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/a-h/templ"
)

// Confirmation is the wording and target of one password-confirmed action: the one source
// for its dialog on the Security page and its page of its own without JavaScript.
type Confirmation struct {
	ID          string // the dialog's element id
	Title       string
	Body        string
	Action      string // where the form posts
	Submit      string
	NewPassword bool // the action also sets a new password (field new_password)
}

// labelSlot stands for the device's name in the wording of the dialogs every row shares;
// the page script puts the name there when it opens one.
const labelSlot = "\x00"

// RevokeConfirmation asks before signing out one device. Its dialog on the Security page
// is shared by every row, so its id names no device.
func RevokeConfirmation(handle, label string) Confirmation {
	return Confirmation{
		ID:     "confirm-device",
		Title:  "Sign out " + label + "?",
		Body:   "That device loses access on its next request. If it was lost or stolen, use “Lost or stolen?” instead: that also changes your password.",
		Action: "/account/sessions/" + handle + "/revoke",
		Submit: "Sign out device",
	}
}

// LostConfirmation asks before "Lost or stolen?": sign that device out, set a new
// password, and sign every other device out.
func LostConfirmation(handle, label string) Confirmation {
	return Confirmation{
		ID:    "lost-device",
		Title: "Lost or stolen: " + label,
		Body: "In one step: " + label + " is signed out now, your password is changed, and every other device is signed out too. " +
			"Only this device stays signed in.",
		Action:      "/account/sessions/" + handle + "/lost",
		Submit:      "Sign out and change password",
		NewPassword: true,
	}
}

// OthersConfirmation asks before signing out every other device; n is how many there are
// (0 when not known).
func OthersConfirmation(n int) Confirmation {
	title := "Log out other devices?"
	if n > 0 {
		title = fmt.Sprintf("Log out %s?", plural(n, "other device", "other devices"))
	}
	return Confirmation{
		ID:     "confirm-others",
		Title:  title,
		Body:   "Every device but this one loses access on its next request.",
		Action: "/account/sessions/others/revoke",
		Submit: "Log out other devices",
	}
}

// RemovePasskeyConfirmation asks before removing a passkey.
func RemovePasskeyConfirmation(id int64, name string) Confirmation {
	return Confirmation{
		ID:     "remove-passkey",
		Title:  "Remove the passkey " + name + "?",
		Body:   "It will no longer sign in to this account or confirm anything here. The authenticator may keep a copy: remove it there too.",
		Action: "/account/passkeys/" + strconv.FormatInt(id, 10) + "/remove",
		Submit: "Remove passkey",
	}
}

// slotted renders text, escaped, with each device-name slot (labelSlot) as an empty
// element the page script fills in.
func slotted(text string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		for i, part := range strings.Split(text, labelSlot) {
			if i > 0 {
				if _, err := io.WriteString(w, `<span data-label></span>`); err != nil {
					return err
				}
			}
			if _, err := io.WriteString(w, templ.EscapeString(part)); err != nil {
				return err
			}
		}
		return nil
	})
}
