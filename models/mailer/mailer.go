// Package mailer sends Elsewhere's mails: a Sender interface an embedding app may
// implement, and one that speaks SMTP through wneessen/go-mail.
package mailer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one mail: plain text, with an HTML alternative.
type Message struct {
	From    string // "Name <address>"
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers a message or says why it could not; the caller retries later.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through one SMTP server.
type SMTP struct {
	host string
	port int
	opts []gomail.Option
}

// NewSMTP reads an -smtp-url: smtp://[user:pass@]host[:port] (STARTTLS when the server
// offers it; port 587 by default) or smtps://[user:pass@]host[:port] (TLS from the start,
// port 465). User and password, when given, authenticate (the server's strongest offered
// mechanism).
func NewSMTP(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("smtp url: not a URL; want smtp://[user:pass@]host:port or smtps://[user:pass@]host:port")
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return nil, errors.New("smtp url: want smtp://[user:pass@]host:port (STARTTLS when offered) or smtps://[user:pass@]host:port")
	}
	if u.Hostname() == "" {
		return nil, errors.New("smtp url: no host; want smtp://[user:pass@]host:port")
	}
	opts := []gomail.Option{gomail.WithTimeout(30 * time.Second)}
	port := 587
	switch u.Scheme {
	case "smtp":
		// WithTLSPolicy, not WithTLSPortPolicy: that one also arms go-mail's fallback to
		// port 25 without TLS, which WithPort does not disarm, so a failed send to the
		// port asked for was retried in plain text on another.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "smtps":
		port = 465
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("smtp url: scheme %q; use smtp:// or smtps://", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("smtp url: bad port %q; want smtp://host:port with a port from 1 to 65535", p)
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if u.User != nil && u.User.Username() != "" {
		pw, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pw))
	}
	return &SMTP{host: u.Hostname(), port: port, opts: opts}, nil
}

// Send delivers m.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return fmt.Errorf("mail from %q: %w", m.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send mail via %s: %w", net.JoinHostPort(s.host, strconv.Itoa(s.port)), err)
	}
	return nil
}

// CheckFrom checks a -mail-from value: "Name <address>" or an address.
func CheckFrom(from string) error {
	if _, err := mail.ParseAddress(from); err != nil {
		return fmt.Errorf("mail from %q: %w", from, err)
	}
	return nil
}
