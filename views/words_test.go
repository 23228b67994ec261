package views

import (
	"strings"
	"testing"

	"github.com/elsewhere-dev/elsewhere/models"
)

// TestEventText: counts stored in digits are said in words, and details an older version
// wrote in words are shown as they were.
func TestEventText(t *testing.T) {
	for _, tc := range []struct {
		kind   models.EventKind
		detail string
		want   string
	}{
		{models.EventOthersRevoked, "1", "Logged out 1 other device"},
		{models.EventOthersRevoked, "3", "Logged out 3 other devices"},
		{models.EventOthersRevoked, "2 other devices", "Logged out 2 other devices"},
		{models.EventPasswordChanged, "", "Password changed; other devices stay signed in"},
		{models.EventPasswordChanged, "0", "Password changed; 0 other devices signed out"},
		{models.EventPasswordChanged, "other devices stay signed in", "Password changed; other devices stay signed in"},
		{models.EventPasswordChanged, "2 other devices signed out", "Password changed; 2 other devices signed out"},
		{models.EventOperatorRevoked, "1", "An administrator signed out 1 device"},
		{models.EventDeviceLost, "iPhone · Safari 18", "iPhone · Safari 18 was signed out as lost or stolen; the password was changed and every other device signed out"},
	} {
		if got := EventText(models.Event{Kind: tc.kind, Detail: tc.detail}); got != tc.want {
			t.Errorf("EventText(%s, %q) = %q, want %q", tc.kind, tc.detail, got, tc.want)
		}
	}
}

func TestMailSafe(t *testing.T) {
	for in, want := range map[string]string{
		"Chrome 131 on macOS 14.5":                  "Chrome 131 on macOS 14.5",
		"Galaxy S24+ · Samsung Internet 29":         "Galaxy S24+ · Samsung Internet 29",
		"Safari 18 on iOS 18":                       "Safari 18 on iOS 18",
		"Chrome 131 on Android (Pixel 8)":           "Chrome 131 on Android (Pixel 8)",
		"No-action-needed visit evil.example.com 1": "No-action-needed visit evil example com 1",
		"https://evil.example/x on Linux":           "https evil example x on Linux",
		"a..b 1.2.3 ...4 5.":                        "a b 1.2.3 4 5",
		"Ünïcode Bröwser 3 on Linux":                "Ünïcode Bröwser 3 on Linux",
		"<b>bold</b> & co":                          "b bold b co",
		strings.Repeat("x", 100):                    strings.Repeat("x", 60),
	} {
		if got := MailSafe(in); got != want {
			t.Errorf("MailSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
