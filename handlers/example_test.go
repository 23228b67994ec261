package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/views"
)

// Example_embedding mounts Elsewhere at the root of a host engine that has routes of its
// own (examples/starter mounts it under a prefix).
func Example_embedding() {
	dir, _ := os.MkdirTemp("", "host")
	defer os.RemoveAll(dir)
	ctx := context.Background()

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
	router.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "the host's own start page") })
	security.Mount(router) // /login, /signup, /logout, /account/..., /static/..., /healthz; not the host's /

	srv := httptest.NewServer(router)
	defer srv.Close()
	for _, path := range []string{"/", "/login"} {
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
	// / 200 false
	// /login 200 true
}
