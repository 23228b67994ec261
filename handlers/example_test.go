package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/views"
)

// Example_embedding is the README's embedding example; TestReadmeShowsTheExample keeps
// the two identical, so the README's code always compiles and runs.
func Example_embedding() {
	dir, _ := os.MkdirTemp("", "host")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	// README:embed:begin
	// Open (and migrate) a database, or wrap your own pools with db.New.
	store, err := db.Open(ctx, filepath.Join(dir, "host.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	security, err := handlers.New(ctx, store, handlers.Config{
		BaseURL:    "https://host.example",
		SignupOpen: true,
		// Your own page chrome around Elsewhere's pages; keep its CSS and scripts.
		Layout: func(p views.Page, body templ.Component) templ.Component {
			return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
				fmt.Fprintf(w, `<!doctype html><html><head><title>%s · Host</title>`, templ.EscapeString(p.Title))
				fmt.Fprintf(w, `<link rel="stylesheet" href="%s">`, p.Assets("app.css"))
				fmt.Fprintf(w, `<script src="%s" defer></script>`, p.Assets("htmx.min.js"))
				fmt.Fprintf(w, `<script src="%s" defer></script></head><body><nav>Host app</nav>`, p.Assets("app.js"))
				if err := body.Render(ctx, w); err != nil {
					return err
				}
				_, err := io.WriteString(w, `</body></html>`)
				return err
			})
		},
		// Security events, to send your own notifications.
		OnEvent: func(e models.Event) {
			if e.Kind == models.EventSignedIn {
				log.Printf("new sign-in for user %d on %s", e.UserID, e.Detail)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	router := gin.New()
	// gin believes X-Forwarded-For from anyone by default; the sign-in limits and the
	// addresses shown need it believed only from your own proxies (here: none).
	if err := router.SetTrustedProxies(nil); err != nil {
		log.Fatal(err)
	}
	router.GET("/hello", func(c *gin.Context) { c.String(http.StatusOK, "the host's own route") })
	security.Mount(router) // /login, /signup, /logout, /account/..., /static/..., /healthz
	// README:embed:end

	srv := httptest.NewServer(router)
	defer srv.Close()
	for _, path := range []string{"/hello", "/login"} {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			log.Fatal(err)
		}
		req.Host = "host.example" // as a browser at the base URL addresses it
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(path, res.StatusCode, strings.Contains(string(b), "<nav>Host app</nav>"))
	}
	// Output:
	// /hello 200 false
	// /login 200 true
}

func TestReadmeShowsTheExample(t *testing.T) {
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	between := func(b []byte, begin, end string) []byte {
		i, j := bytes.Index(b, []byte(begin)), bytes.Index(b, []byte(end))
		if i < 0 || j < i {
			t.Fatalf("markers %q..%q not found", begin, end)
		}
		return b[i+len(begin) : j]
	}
	norm := func(b []byte) string {
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "//") {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	code := norm(between(src, "// README:embed:begin", "// README:embed:end"))
	doc := norm(between(readme, "<!-- embed:begin -->", "<!-- embed:end -->"))
	if !strings.Contains(doc, code) {
		t.Errorf("README's embedding example differs from Example_embedding; copy it again.\nwant:\n%s", code)
	}
}
