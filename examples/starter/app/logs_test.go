package app_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/examples/starter/app"
	"github.com/elsewhere-dev/elsewhere/models/mailer"
	"github.com/elsewhere-dev/elsewhere/models/mailer/mailtest"
)

// lockedBuffer is the starter's log output, written by its request goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestNoMailedTokenInTheHostsLog: the starter logs every request line with gin's default
// logger, as generated starters do. A password reset followed from the mail, the way a
// browser follows it (the fragment is not sent) and the way a browser without script
// does (the code typed in), leaves neither the link's token nor its code in that log.
func TestNoMailedTokenInTheHostsLog(t *testing.T) {
	var logged lockedBuffer
	was := gin.DefaultWriter
	gin.DefaultWriter = &logged // gin.Default's logger takes it when the router is made
	t.Cleanup(func() { gin.DefaultWriter = was })

	sink := mailtest.Start(t, "")
	mail, err := mailer.NewSMTP("smtp://" + sink.Addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	s, err := app.New(t.Context(), filepath.Join(t.TempDir(), "starter.db"), "http://"+srv.Listener.Addr().String(), mail)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv.Config.Handler = s.Handler
	srv.Start()
	t.Cleanup(srv.Close)

	owner := newBrowser(t, srv.URL, uaMac)
	if r := owner.do("POST", "/auth/signup", url.Values{"email": {"ann@example.com"}, "password": {password}}, false); r.status != http.StatusSeeOther {
		t.Fatalf("sign-up: %d", r.status)
	}
	owner.do("POST", "/auth/logout", url.Values{}, false)

	var secrets []string
	for _, typed := range []bool{false, true} {
		owner.do("POST", "/auth/password/forgot", url.Values{"email": {"ann@example.com"}}, false)
		m := sink.Next(t)
		link, token, code := m.Link(t), m.Token(t), m.Code(t)
		secrets = append(secrets, token, code)
		// What a browser asks for when the link is clicked: the fragment stays behind.
		res, err := owner.client.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/auth/password/reset" {
			t.Fatalf("the link's page: %d at %s", res.StatusCode, res.Request.URL.Path)
		}
		form := url.Values{"token": {token}, "new_password": {password}} // the page's script
		if typed {
			form = url.Values{"code": {code}, "new_password": {password}} // no script
		}
		if r := owner.do("POST", "/auth/password/reset", form, false); r.status != http.StatusSeeOther {
			t.Fatalf("the reset (typed %v): %d\n%.400s", typed, r.status, r.body)
		}
	}
	out := logged.String()
	if !strings.Contains(out, "/auth/password/reset") {
		t.Fatalf("the starter's log has no request lines:\n%s", out)
	}
	for _, secret := range secrets {
		if strings.Contains(out, secret) {
			t.Errorf("the host's log holds a mailed secret %q:\n%s", secret, out)
		}
	}
}
