package smtptest_test

import (
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/internal/smtptest"
)

func send(s *smtptest.Server, to string) error {
	return smtp.SendMail(s.Addr(), nil, "from@example.org", []string{to}, []byte("Subject: hi\r\n\r\nhello\r\n"))
}

func TestServer(t *testing.T) {
	s := smtptest.Start(t)
	if err := send(s, "a@example.org"); err != nil {
		t.Fatal(err)
	}
	got := s.WaitFor(t, 1, 5*time.Second)
	if got[0].From != "from@example.org" || got[0].To[0] != "a@example.org" || !strings.Contains(string(got[0].Data), "hello") {
		t.Errorf("received %+v", got[0])
	}

	s.RefuseRecipient("b@example.org", 550, "no such user")
	if err := send(s, "b@example.org"); err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("refused recipient: %v", err)
	}
	s.Refuse(451, "later")
	if err := send(s, "a@example.org"); err == nil || !strings.Contains(err.Error(), "451") {
		t.Errorf("refused transaction: %v", err)
	}
	s.Refuse(0, "")

	s.Down()
	if err := send(s, "a@example.org"); err == nil {
		t.Error("a server that is down accepted a message")
	}
	s.Up()
	if err := send(s, "a@example.org"); err != nil {
		t.Fatal(err)
	}
	if got = s.WaitFor(t, 2, 5*time.Second); len(got) != 2 {
		t.Errorf("received %d messages", len(got))
	}
}
