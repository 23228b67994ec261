//go:build mattn

// Command minimal is the smallest host app: its own SQLite file through mattn/go-sqlite3
// (as go-blueprint's starters open it), Elsewhere mounted under /auth, and a /dashboard
// for signed-in users. go run -tags mattn ./examples/minimal, then open
// http://localhost:8091/dashboard. (cgo: it needs a C compiler, as mattn does.)
package main

import (
	"context"
	"database/sql"
	"log"
	"net/http"

	"github.com/gin-gonic/gin"
	_ "github.com/mattn/go-sqlite3" // registers "sqlite3"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/handlers"
)

func main() {
	ctx := context.Background()
	// One writer connection and a reader pool on one file: WAL, foreign keys, a busy
	// timeout, and the writer's transactions taking the write lock at BEGIN.
	dsn := "file:app.db?_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on"
	write, err := sql.Open("sqlite3", dsn+"&_txlock=immediate")
	if err != nil {
		log.Fatal(err)
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite3", dsn)
	if err != nil {
		log.Fatal(err)
	}
	store, err := db.New(ctx, write, read) // creates Elsewhere's tables beside the app's own
	if err != nil {
		log.Fatal(err)
	}
	security, err := handlers.New(ctx, store, handlers.Config{
		BaseURL:    "http://localhost:8091", // the site's origin; Mount adds /auth
		SignupOpen: true,
		// Optional: Mailer (alerts, password reset), Layout (Elsewhere's pages in yours).
	})
	if err != nil {
		log.Fatal(err)
	}

	router := gin.Default()
	if err := router.SetTrustedProxies(nil); err != nil { // no proxy in front: believe no X-Forwarded-For
		log.Fatal(err)
	}
	security.Mount(router.Group("/auth")) // /auth/login, /auth/signup, /auth/account/security, ...
	router.GET("/", security.LoadUser, func(c *gin.Context) {
		if user, ok := handlers.CurrentUser(c); ok {
			c.String(http.StatusOK, "Hello, %s. /dashboard, or /auth/account/security for your devices.", user.Email)
			return
		}
		c.String(http.StatusOK, "Hello. Sign in at /auth/login.")
	})
	router.GET("/dashboard", security.RequireUser, func(c *gin.Context) {
		user, _ := handlers.CurrentUser(c) // always signed in behind RequireUser
		c.String(http.StatusOK, "Dashboard for %s", user.Email)
	})
	log.Fatal(router.Run("localhost:8091"))
}
