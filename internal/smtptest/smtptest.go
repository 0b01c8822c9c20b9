// Package smtptest runs a real SMTP server on the loopback interface for tests: it keeps what
// it receives, can be told to refuse (a whole transaction, or one recipient) and can be stopped
// and started again on the same port, to play a relay that is down.
package smtptest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	// Data is the message as sent after DATA: headers and body.
	Data []byte
}

// Server is a loopback SMTP server. Its methods may be called from any goroutine.
type Server struct {
	// Host and Port are where it listens (127.0.0.1 and a free port).
	Host string
	Port int

	mu       sync.Mutex
	srv      *smtp.Server
	received []Message
	refusal  *smtp.SMTPError
	refused  map[string]*smtp.SMTPError
	down     bool
}

// Start starts a server on 127.0.0.1 and a free port; it stops at the test's end.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{Host: "127.0.0.1", refused: map[string]*smtp.SMTPError{}}
	if err := s.listen("127.0.0.1:0"); err != nil {
		t.Fatalf("starting the test SMTP server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, fmt.Sprint(s.Port)) }

func (s *Server) listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "smtptest.localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.ErrorLog = discardLogger{}
	s.mu.Lock()
	s.srv, s.Port = srv, l.Addr().(*net.TCPAddr).Port
	s.mu.Unlock()
	go func() { _ = srv.Serve(gate{Listener: l, s: s}) }()
	return nil
}

// Stop closes the listener and every connection, for good (at the test's end). Stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Down makes the server unreachable: every connection is closed before the greeting, as a
// crashed server's would be. The port stays held, so no other test's server can take it
// and answer in its place.
func (s *Server) Down() {
	s.mu.Lock()
	s.down = true
	s.mu.Unlock()
}

// Up serves again after Down, keeping what was received.
func (s *Server) Up() {
	s.mu.Lock()
	s.down = false
	s.mu.Unlock()
}

// gate is the listener that drops connections while the server is down.
type gate struct {
	net.Listener
	s *Server
}

func (g gate) Accept() (net.Conn, error) {
	for {
		conn, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		g.s.mu.Lock()
		down := g.s.down
		g.s.mu.Unlock()
		if !down {
			return conn, nil
		}
		_ = conn.Close()
	}
}

// Refuse makes every following transaction fail at MAIL FROM with the given reply (e.g. 451
// for a temporary failure, 554 for a permanent one); code 0 accepts again.
func (s *Server) Refuse(code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusal = nil
	if code != 0 {
		s.refusal = smtpError(code, message)
	}
}

// RefuseRecipient makes RCPT TO for one address fail with the given reply (e.g. 550 "no such
// user"); code 0 accepts it again.
func (s *Server) RefuseRecipient(addr string, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refused, strings.ToLower(addr))
	if code != 0 {
		s.refused[strings.ToLower(addr)] = smtpError(code, message)
	}
}

func smtpError(code int, message string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: message}
}

// Messages returns what was received so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.received...)
}

// WaitFor waits until at least n messages were received and returns them; the test fails if
// they did not come within the deadline.
func (s *Server) WaitFor(t testing.TB, n int, deadline time.Duration) []Message {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		got := s.Messages()
		if len(got) >= n {
			return got
		}
		if time.Now().After(end) {
			t.Fatalf("the test SMTP server received %d messages in %v, want %d", len(got), deadline, n)
		}
		<-time.After(10 * time.Millisecond)
	}
}

// session is one SMTP transaction's state.
type session struct {
	s    *Server
	from string
	to   []string
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.refusal != nil {
		return ss.s.refusal
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if err := ss.s.refused[strings.ToLower(to)]; err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		return err
	}
	if len(ss.to) == 0 {
		return errors.New("no recipients")
	}
	ss.s.mu.Lock()
	ss.s.received = append(ss.s.received, Message{From: ss.from, To: ss.to, Data: b.Bytes()})
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// discardLogger keeps the server's connection errors (clients hanging up) out of test output.
type discardLogger struct{}

func (discardLogger) Printf(string, ...interface{}) {}
func (discardLogger) Println(...interface{})        {}
