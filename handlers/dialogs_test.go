package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// countElements counts the elements named tag in body.
func countElements(t *testing.T, body, tag string) int {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for e := range doc.Descendants() {
		if e.Type == html.ElementNode && e.Data == tag {
			n++
		}
	}
	return n
}

// TestEveryRowSharesTheDialogs: the page carries four dialogs however many devices it
// lists ("Log out other devices", and the "Sign out", "Lost or stolen?" and "Rename"
// every row shares), so its size follows its rows; each row's buttons name their device's action
// and, without JavaScript, lead to the confirmation as a page of its own.
func TestEveryRowSharesTheDialogs(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)
	_, small := a.page()
	for i := range 9 {
		ta.device(fmt.Sprintf("D%d", i), uaFirefoxWindow, "").login("ann@example.com", testPassword)
	}
	rows, body := a.page()
	if len(rows) != 12 {
		t.Fatalf("the page lists %d devices, want 12", len(rows))
	}
	for _, page := range []string{small, body} {
		if n := countElements(t, page, "dialog"); n != 4 {
			t.Errorf("the page holds %d dialogs, want 4", n)
		}
	}
	if perRow := (len(body) - len(small)) / 9; perRow > 1500 {
		t.Errorf("each further device adds %d bytes to the page, want at most 1,500", perRow)
	}
	bID := b.handle()
	for _, action := range []struct{ path, dialog string }{
		{"/account/sessions/" + bID + "/revoke", "confirm-device"},
		{"/account/sessions/" + bID + "/lost", "lost-device"},
		{"/account/sessions/" + bID + "/name", "name-device"},
	} {
		btn := byAttr(t, body, "formaction", action.path)
		if btn == nil || attr(btn, "form") != "ask" || attr(btn, "data-dialog") != action.dialog {
			t.Errorf("B's row has no button for %s opening #%s through form ask", action.path, action.dialog)
		}
	}
	if f := findByID(t, body, "ask"); f == nil || attr(f, "method") != "get" {
		t.Errorf("no form #ask sending the rows' buttons with GET")
	}
}

// TestConfirmationPagesWithoutJavaScript: a row's "Sign out" and "Lost or stolen?" lead,
// without JavaScript, to a page that asks for the password and posts the action; the same
// answers for unknown and own devices as the action gives; within the confirmation window
// only "Lost or stolen?" (which sets a new password) asks again.
func TestConfirmationPagesWithoutJavaScript(t *testing.T) {
	ta := newTestApp(t)
	a, b, c := threeDevices(t, ta)
	bob := ta.otherUser()
	for _, tc := range []struct {
		action, title string
		newPassword   bool
	}{{"revoke", "Sign out ", false}, {"lost", "Lost or stolen: ", true}} {
		path := "/account/sessions/" + b.handle() + "/" + tc.action
		r := a.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d, want 200", path, r.status)
		}
		form := byAttr(t, r.body, "action", path)
		if form == nil || attr(form, "method") != "post" || findByID(t, r.body, "confirm-password") == nil {
			t.Errorf("GET %s: no form posting there with a password field", path)
		}
		if got := findByID(t, r.body, "confirm-new-password") != nil; got != tc.newPassword {
			t.Errorf("GET %s: asks for a new password: %v, want %v", path, got, tc.newPassword)
		}
		if h := findByID(t, r.body, "main"); h == nil || !strings.Contains(textOf(h), tc.title) {
			t.Errorf("GET %s: the page does not say %q", path, tc.title)
		}
		if got := r.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", path, got)
		}
		for _, other := range []struct {
			path string
			want int
		}{
			{"/account/sessions/" + a.handle() + "/" + tc.action, http.StatusConflict},
			{"/account/sessions/" + bob.handle() + "/" + tc.action, http.StatusNotFound},
			{"/account/sessions/" + strings.Repeat("0", 32) + "/" + tc.action, http.StatusNotFound},
			{"/account/sessions/nonsense/" + tc.action, http.StatusNotFound},
		} {
			if r := a.get(other.path); r.status != other.want {
				t.Errorf("GET %s: %d, want %d", other.path, r.status, other.want)
			}
		}
	}
	// Signed out: the sign-in page.
	if r := ta.device("X", uaChromeMac, "").get("/account/sessions/" + b.handle() + "/revoke"); r.status != http.StatusSeeOther || r.location() != "/login" {
		t.Errorf("signed out: %d %q, want 303 to /login", r.status, r.location())
	}

	// Confirm once (signs C out); within the window "Sign out" asks no password.
	if r := a.post("/account/sessions/"+c.handle()+"/revoke", pw(testPassword)); r.status != http.StatusSeeOther {
		t.Fatalf("revoke C: %d", r.status)
	}
	r := a.get("/account/sessions/" + b.handle() + "/revoke")
	if r.status != http.StatusOK || findByID(t, r.body, "confirm-password") != nil {
		t.Errorf("within the window the sign-out page (%d) still asks for the password", r.status)
	}
	if r := a.get("/account/sessions/" + b.handle() + "/lost"); findByID(t, r.body, "confirm-password") == nil {
		t.Errorf("within the window the Lost or stolen page no longer asks for the current password")
	}
	if r := a.post("/account/sessions/"+b.handle()+"/revoke", nil); r.status != http.StatusSeeOther {
		t.Errorf("signing B out from that page within the window: %d, want 303", r.status)
	}
	assertSignedOut(t, b, true)
}
