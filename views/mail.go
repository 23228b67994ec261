package views

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// MailLink stands in a mail's bodies for its single-use link until the mail is sent: only
// then is the link's token made, so no usable token is ever stored.
// The link carries its token in the URL fragment, which a browser never sends: the page's
// script reads it and posts it in the body, so the token is in no request line and no log.
const MailLink = "https://elsewhere.invalid/mail-link"

// MailPage and MailCode stand in the same way for the link's page, without the token, and
// the short code typed there when the browser runs no script.
const (
	MailPage = "https://elsewhere.invalid/mail-page"
	MailCode = "ELSEWHERE-MAIL-CODE"
)

// AlertMail is a mail that tells the owner of changes to the account.
type AlertMail struct {
	Site  string // the base URL, to say where the account is
	Items []AlertItem
	More  int // changes not listed
	// SignIns is how many sign-ins the account had in the last hour; told when more than one.
	SignIns int
}

// SignInsText says how many sign-ins the account had in the last hour, or "".
func (m AlertMail) SignInsText() string {
	if m.SignIns < 2 {
		return ""
	}
	return fmt.Sprintf("There were %d sign-ins to your account in the last hour.", m.SignIns)
}

// MoreText says how many changes the mail leaves out, or "".
func (m AlertMail) MoreText() string {
	if m.More == 0 {
		return ""
	}
	word := "changes"
	if m.More == 1 {
		word = "change"
	}
	return fmt.Sprintf("…and %d more %s: your Security page lists every device signed in now.", m.More, word)
}

// AlertItem is one change, in words.
type AlertItem struct {
	What  string // "A new device signed in: Mac · Chrome 131"
	When  time.Time
	IP    string
	Place string // "Berlin, Germany", or ""
}

// Where is the item's address and place.
func (it AlertItem) Where() string {
	switch {
	case it.IP == "":
		return "an unknown address"
	case it.Place == "":
		return it.IP
	}
	return it.IP + " (" + it.Place + ")"
}

// WhenText is the item's time in the zone When carries (the account's): "4 Dec 2026,
// 14:05 CET".
func (it AlertItem) WhenText() string { return TimeText(it.When) }

// Subject is the alert's subject line.
func (m AlertMail) Subject(newDeviceOnly bool) string {
	if newDeviceOnly {
		if n := len(m.Items) + m.More; n > 1 {
			return fmt.Sprintf("%d new sign-ins to your account", n)
		}
		return "New sign-in to your account"
	}
	return "Security alert: your account was changed"
}

// Text is the alert's plain-text body.
func (m AlertMail) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "This happened to your account at %s:\n\n", m.Site)
	for _, it := range m.Items {
		fmt.Fprintf(&b, "- %s\n  %s, from %s\n", it.What, it.WhenText(), it.Where())
	}
	if t := m.MoreText(); t != "" {
		b.WriteString("\n" + t + "\n")
	}
	if t := m.SignInsText(); t != "" {
		b.WriteString("\n" + t + "\n")
	}
	b.WriteString("\nIf this was you, there is nothing to do.\n\n")
	b.WriteString("If it wasn't, open this link (it works once, for 7 days). It signs every device out,\n")
	b.WriteString("including any that changed your password, and lets you set a new password:\n\n")
	b.WriteString(MailLink + "\n\n")
	b.WriteString("Or go to " + MailPage + " and enter this code: " + MailCode + "\n")
	return b.String()
}

// ResetMail is the password-reset mail.
type ResetMail struct {
	Site string
}

// Subject is the reset mail's subject line.
func (ResetMail) Subject() string { return "Reset your password" }

// Text is the reset mail's plain-text body.
func (m ResetMail) Text() string {
	return "Someone asked to reset the password of your account at " + m.Site + ".\n\n" +
		"To set a new password, open this link. It works once, for an hour, and signs every device out:\n\n" +
		MailLink + "\n\n" +
		"Or go to " + MailPage + " and enter this code: " + MailCode + "\n\n" +
		"If you didn't ask, ignore this mail: your password stays as it is.\n"
}

var (
	notLabel   = regexp.MustCompile(`[^\p{L}\p{N} ().·+-]+`)
	strayPoint = regexp.MustCompile(`(^|[^0-9])\.|\.($|[^0-9])`)
	spaces     = regexp.MustCompile(` {2,}`)
)

// MailSafe is a device label fit for a security mail. Labels are made only of the device
// parser's names (device.KnownLabel), so a thief cannot name their browser "No action
// needed, visit evil.example"; this is a second line. In a mail only letters, digits,
// spaces, brackets, hyphens, plus signs and the label's middle dot stay, and a point only
// between digits ("14.5"), so no address or link can be spelled; the label is cut to 60
// characters.
func MailSafe(label string) string {
	s := notLabel.ReplaceAllString(label, " ")
	for strayPoint.MatchString(s) {
		s = strayPoint.ReplaceAllString(s, "$1 $2")
	}
	s = strings.TrimSpace(spaces.ReplaceAllString(s, " "))
	if r := []rune(s); len(r) > 60 {
		s = strings.TrimSpace(string(r[:60]))
	}
	return s
}
