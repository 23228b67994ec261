// Package mailtest runs a real SMTP server (emersion/go-smtp) in process for tests, and
// decodes the mails it receives.
package mailtest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Wait bounds the wait for a mail that should come; the test's deadline is the real one.
const Wait = 20 * time.Second

// Mail is one mail as the SMTP server received it, decoded.
type Mail struct {
	From, To, Subject string
	Text, HTML        string
}

// Sink is a real SMTP server (emersion/go-smtp), in process, on a loopback port.
type Sink struct {
	Addr  string // host:port
	srv   *smtp.Server
	mails chan Mail
}

// Start listens on addr ("" for any free loopback port) until the test ends.
func Start(t *testing.T, addr string) *Sink {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &Sink{Addr: ln.Addr().String(), mails: make(chan Mail, 100)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{sink: s, t: t}, nil }))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

type session struct {
	sink     *Sink
	t        *testing.T
	from, to string
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	return nil
}
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := decodeMail(raw)
	if err != nil {
		s.t.Errorf("undecodable mail: %v\n%s", err, raw)
		return err
	}
	m.From, m.To = s.from, s.to
	s.sink.mails <- m
	return nil
}

// decodeMail reads a mail's subject and its text and HTML parts.
func decodeMail(raw []byte) (Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Mail{}, err
	}
	dec := new(mime.WordDecoder)
	subj, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	m := Mail{Subject: subj}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return Mail{}, err
	}
	part := func(ct, enc string, body io.Reader) error {
		if strings.EqualFold(enc, "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(ct, "text/plain"):
			m.Text = string(b)
		case strings.HasPrefix(ct, "text/html"):
			m.HTML = string(b)
		}
		return nil
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return m, part(mt, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return Mail{}, err
		}
		if err := part(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
			return Mail{}, err
		}
	}
}

// Next waits for the next mail.
func (s *Sink) Next(t testing.TB) Mail {
	t.Helper()
	select {
	case m := <-s.mails:
		return m
	case <-time.After(Wait):
		t.Fatalf("no mail within %v", Wait)
		return Mail{}
	}
}

// None says no mail is waiting.
func (s *Sink) None(t *testing.T, why string) {
	t.Helper()
	select {
	case m := <-s.mails:
		t.Errorf("%s, but a mail came: %q\n%s", why, m.Subject, m.Text)
	default:
	}
}

// linkRE finds a mailed link.
// A link mailed now has its token in the fragment ("/password/reset#t=TOKEN").
var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/(account/not-me|password/reset)#t=[A-Za-z0-9_-]+`)

// codeRE finds the code mailed beside the link.
var codeRE = regexp.MustCompile(`enter this code: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})`)

// Link is the single-use link in a mail; its text and HTML parts must carry the same one.
func (m Mail) Link(t *testing.T) string {
	t.Helper()
	l := linkRE.FindString(m.Text)
	if l == "" {
		t.Fatalf("no link in the mail:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, `href="`+l+`"`) {
		t.Errorf("the HTML part does not link to %s:\n%s", l, m.HTML)
	}
	return l
}

// Token is the token of the mail's link, from its fragment.
func (m Mail) Token(t *testing.T) string {
	t.Helper()
	_, tok, _ := strings.Cut(m.Link(t), "#t=")
	return tok
}

// Code is the code the mail gives for a browser without JavaScript.
func (m Mail) Code(t *testing.T) string {
	t.Helper()
	c := codeRE.FindStringSubmatch(m.Text)
	if c == nil {
		t.Fatalf("no code in the mail:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, c[1]) {
		t.Errorf("the HTML part does not give the code %s:\n%s", c[1], m.HTML)
	}
	return c[1]
}
