package main

import (
	"io"
	"net"
	"sync"

	"github.com/emersion/go-smtp"
)

// sink is an SMTP server in process that counts what it receives: the servers' -smtp-url.
type sink struct {
	addr string
	srv  *smtp.Server
	mu   sync.Mutex
	got  int
	to   map[string]int
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{addr: ln.Addr().String(), to: map[string]int{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	go s.srv.Serve(ln)
	return s, nil
}

func (s *sink) close() { s.srv.Close() }

func (s *sink) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

type sinkSession struct {
	s  *sink
	to string
}

func (ss *sinkSession) Reset()                                    {}
func (ss *sinkSession) Logout() error                             { return nil }
func (ss *sinkSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error { ss.to = to; return nil }
func (ss *sinkSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	ss.s.got++
	ss.s.to[ss.to]++
	return nil
}
