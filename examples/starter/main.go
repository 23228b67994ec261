// Command starter serves the example host app: a gin + htmx + templ starter with
// Elsewhere mounted under /auth. go run ./examples/starter, then open
// http://localhost:8090.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/elsewhere-dev/elsewhere/examples/starter/app"
	"github.com/elsewhere-dev/elsewhere/models/mailer"
)

func main() {
	addr := flag.String("addr", "localhost:8090", "listen address")
	path := flag.String("db", "starter.db", "SQLite file for the starter and Elsewhere")
	base := flag.String("base-url", "", "public URL (default http://ADDR)")
	smtpURL := flag.String("smtp-url", "", "smtp://[user:pass@]host:port for alerts and password reset (default: no mail)")
	flag.Parse()
	if *base == "" {
		*base = "http://" + *addr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var mail mailer.Sender
	if *smtpURL != "" {
		m, err := mailer.NewSMTP(*smtpURL)
		if err != nil {
			log.Fatal(err)
		}
		mail = m
	}
	if err := run(ctx, *addr, *path, *base, mail); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr, path, base string, mail mailer.Sender) error {
	s, err := app.New(ctx, path, base, mail)
	if err != nil {
		return err
	}
	defer s.Close()
	srv := &http.Server{Addr: addr, Handler: s.Handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Println("starter: serving", base)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
