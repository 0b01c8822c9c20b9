package bridge_test

import (
	"fmt"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// TestAdmitUnpaidIsAudited: admitting someone who has not paid ("anyway") leaves an
// admit_unpaid row naming the participant, the payment, its amount and currency, never the
// service's name; a refused attempt (another clinician's) leaves none (docs/security.md, the
// audit trail's payments row). Checked to fail with the audit call removed (make mutate:
// bridge-audit-admit-unpaid).
func TestAdmitUnpaidIsAudited(t *testing.T) {
	f := newPayFixture(t, dbtest.Open(t, "sqlite"), false, bridge.RefundPolicy{})
	s, p := f.book(t, 0)
	subject := fmt.Sprintf("participant:%d", p.ID)
	if _, err := f.svc.AdmitAnyway(f.ctx, otherPay, s.ID, "1"); err == nil {
		t.Fatal("another clinician admitted")
	}
	if got := f.audit.find(bridge.AuditAdmitUnpaid, subject); len(got) != 0 {
		t.Fatalf("a refused admission was audited: %+v", got)
	}
	if _, err := f.svc.AdmitAnyway(f.ctx, drPay, s.ID, "1"); err != nil {
		t.Fatal(err)
	}
	pay, err := f.svc.ParticipantPayment(f.ctx, p.ID)
	if err != nil || pay == nil {
		t.Fatalf("payment: %+v %v", pay, err)
	}
	got := f.audit.find(bridge.AuditAdmitUnpaid, subject)
	if len(got) != 1 {
		t.Fatalf("admit_unpaid rows for %s: %+v, want one", subject, got)
	}
	e := got[0]
	if e.Actor != drPay || e.SessionID != s.ID || e.Detail["payment"] != fmt.Sprint(pay.ID) ||
		e.Detail["amount"] != fmt.Sprint(pay.Amount) || e.Detail["currency"] != pay.Currency {
		t.Errorf("admit_unpaid row: %+v (payment %+v)", e, pay)
	}
	for k, v := range e.Detail {
		if v == f.service.Name {
			t.Errorf("the service's name is in the audit trail (%s)", k)
		}
	}
}
