package views

import (
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
		{models.EventDeviceLost, "Safari 18 on iOS 18", "Safari 18 on iOS 18 was signed out as lost or stolen; the password was changed and every other device signed out"},
	} {
		if got := EventText(models.Event{Kind: tc.kind, Detail: tc.detail}); got != tc.want {
			t.Errorf("EventText(%s, %q) = %q, want %q", tc.kind, tc.detail, got, tc.want)
		}
	}
}
