// Package app is a small gin + htmx + templ web app shaped like what a project generator
// makes (its own start page, its own layout, its own database and a page for signed-in
// users) with Elsewhere mounted under /auth for sign-in and the Security page.
package app

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models/mailer"
	"github.com/elsewhere-dev/elsewhere/views"
)

// Server is the starter app: its router, its database pools and Elsewhere inside.
type Server struct {
	Handler  http.Handler
	Security *handlers.App
	write    *sql.DB
	read     *sql.DB
}

// Close closes the app's database pools.
func (s *Server) Close() error {
	s.read.Close()
	return s.write.Close()
}

// New builds the starter over its SQLite file at path, served at baseURL, sending mail
// (alerts with "This wasn't me", password reset) through mail, or none when it is nil.
// ctx bounds Elsewhere's background sweeper and mail worker.
func New(ctx context.Context, path, baseURL string, mail mailer.Sender) (*Server, error) {
	write, read, err := openPools(ctx, path)
	if err != nil {
		return nil, err
	}
	s := &Server{write: write, read: read}

	// README:embed:begin
	// Elsewhere's tables live in the starter's own database, through its own pools.
	store, err := db.New(ctx, write, read)
	if err != nil {
		return nil, err
	}
	security, err := handlers.New(ctx, store, handlers.Config{
		BaseURL:    baseURL, // required: the address people reach the app at
		SignupOpen: true,
		Mailer:     mail, // mailer.NewSMTP("smtp://user:pass@host:587"); nil: no mail
		// Elsewhere's pages inside the starter's own layout.
		Layout: func(p views.Page, body templ.Component) templ.Component {
			return Base(p.Title, p.Email, views.Head(p), body)
		},
	})
	if err != nil {
		return nil, err
	}

	// gin.Default logs every request line, as generated starters do: mailed links carry
	// their token after '#', which browsers never send, so no token reaches this log.
	router := gin.Default()
	// gin believes X-Forwarded-For from anyone by default; the sign-in limits and the
	// addresses shown need it believed only from your own proxies (here: none).
	if err := router.SetTrustedProxies(nil); err != nil {
		return nil, err
	}
	router.GET("/", security.LoadUser, s.home)                  // the starter's own start page
	security.Mount(router.Group("/auth"))                       // /auth/login, /auth/account/security, ...
	router.GET("/dashboard", security.RequireUser, s.dashboard) // signed-in users only
	// README:embed:end

	s.Handler, s.Security = router, security
	return s, nil
}

// openPools opens the starter's database as Elsewhere needs it: one writer connection
// and a reader pool, WAL, foreign keys, a busy timeout; then the starter's own table.
// The driver is the starter's own (driver_*.go: modernc.org/sqlite, or mattn/go-sqlite3
// with -tags mattn); Elsewhere uses whichever it is given.
func openPools(ctx context.Context, path string) (*sql.DB, *sql.DB, error) {
	write, err := sql.Open(Driver, dsn(path, true))
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	write.SetMaxOpenConns(1)
	if _, err := write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS notes (
		id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, body TEXT NOT NULL)`); err != nil {
		write.Close()
		return nil, nil, fmt.Errorf("create the starter's tables: %w", err)
	}
	read, err := sql.Open(Driver, dsn(path, false))
	if err != nil {
		write.Close()
		return nil, nil, fmt.Errorf("open database readers: %w", err)
	}
	return write, read, nil
}

func (s *Server) home(c *gin.Context) {
	email := ""
	if u, ok := handlers.CurrentUser(c); ok {
		email = u.Email
	}
	s.render(c, "Welcome", email, Home(email))
}

func (s *Server) dashboard(c *gin.Context) {
	u, _ := handlers.CurrentUser(c)
	var notes int
	if err := s.read.QueryRowContext(c.Request.Context(), `SELECT COUNT(*) FROM notes WHERE user_id = ?`, u.ID).Scan(&notes); err != nil {
		c.String(http.StatusInternalServerError, "the starter's database did not answer")
		return
	}
	c.Header("Cache-Control", "no-store")
	s.render(c, "Dashboard", u.Email, Dashboard(u.Email, notes))
}

// render writes one of the starter's own pages in its layout.
func (s *Server) render(c *gin.Context, title, email string, body templ.Component) {
	head := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		_, err := io.WriteString(w, `<link rel="stylesheet" href="/auth/static/app.css">`)
		return err
	})
	// The starter's own pages get a strict policy too: no inline script, no framing.
	c.Header("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(http.StatusOK)
	if err := Base(title, email, head, body).Render(c.Request.Context(), c.Writer); err != nil {
		c.Error(err)
	}
}
