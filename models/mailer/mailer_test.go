package mailer_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/models/mailer"
)

// TestNoFallbackToPort25: a send to the port asked for that fails is not tried again in
// plain text on port 25 (go-mail's fallback with its STARTTLS port policy).
func TestNoFallbackToPort25(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	m, err := mailer.NewSMTP("smtp://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = m.Send(ctx, mailer.Message{From: "a@example.com", To: "b@example.com", Subject: "s", Text: "t"})
	if err == nil {
		t.Fatal("a send to a closed port succeeded")
	}
	_, port, _ := net.SplitHostPort(addr)
	if msg := strings.TrimPrefix(err.Error(), "send mail via "+addr); strings.Contains(msg, ":25") || !strings.Contains(msg, port) {
		t.Errorf("the failed send went on to port 25: %v", err)
	}
}

// TestSMTPURLErrorsSayTheForm: a wrong -smtp-url says what one looks like, and never
// repeats a password given in it.
func TestSMTPURLErrorsSayTheForm(t *testing.T) {
	for _, raw := range []string{"localhost:25", "smtp://:25", "mail.example:587", "http://mail.example", "smtp://u:s3cret@host:99999", "::"} {
		_, err := mailer.NewSMTP(raw)
		if err == nil || !strings.Contains(err.Error(), "smtp://") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: %v, want an error naming smtp://host:port without the password", raw, err)
		}
	}
}
