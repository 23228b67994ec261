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
	case err != nil:
		return "That was not accepted."
	}
	return ""
}
