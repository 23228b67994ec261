package handlers_test

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/db/dbtest"
	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models/mailer"
)

// contractRoute is a route as docs/http.md writes it: `GET /password/reset/{token}`.
var contractRoute = regexp.MustCompile("^\\| `(GET|POST|PUT|PATCH|DELETE) (/[^`]*)`")

// TestHTTPContractMatchesTheRouter: docs/http.md lists exactly the routes Mount serves
// (with mail on, so the mail pages are there too).
func TestHTTPContractMatchesTheRouter(t *testing.T) {
	doc, err := os.ReadFile("../docs/http.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, line := range strings.Split(string(doc), "\n") {
		if m := contractRoute.FindStringSubmatch(line); m != nil {
			documented = append(documented, m[1]+" "+m[2])
		}
	}
	d, err := db.Open(context.Background(), dbtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	m, err := mailer.NewSMTP("smtp://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	app, err := handlers.New(t.Context(), d, handlers.Config{BaseURL: "http://127.0.0.1", HashParams: &fastHash, Mailer: m, MailEvery: 1 << 62})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	app.Mount(r)
	param := regexp.MustCompile(`[:*](\w+)`)
	var served []string
	for _, rt := range r.Routes() {
		p := param.ReplaceAllString(rt.Path, "{$1}")
		p = strings.Replace(p, "{filepath}", "{file}", 1)
		served = append(served, rt.Method+" "+p)
	}
	for _, s := range served {
		if !slices.Contains(documented, s) {
			t.Errorf("served but not in docs/http.md: %s", s)
		}
	}
	for _, s := range documented {
		if !slices.Contains(served, s) {
			t.Errorf("in docs/http.md but not served: %s", s)
		}
	}
}
