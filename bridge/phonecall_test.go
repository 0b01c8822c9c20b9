package bridge

import (
	"strings"
	"testing"
)

func TestCallAttemptStates(t *testing.T) {
	type step struct {
		leg CallLeg
		st  CallStatus
	}
	cases := []struct {
		name    string
		accept  bool
		steps   []step
		want    CallState
		problem string
	}{
		{"connected then hung up", true, []step{{LegClient, CallStatusAnswered}, {LegClient, CallStatusCompleted}, {LegClinician, CallStatusCompleted}}, CallEnded, ""},
		{"connected", true, []step{{LegClinician, CallStatusRinging}, {LegClient, CallStatusAnswered}}, CallConnected, ""},
		{"clinician busy", false, []step{{LegClinician, CallStatusBusy}}, CallFailed, "Your phone was busy."},
		{"clinician does not answer", false, []step{{LegClinician, CallStatusNoAnswer}}, CallFailed, "Your phone did not answer."},
		{"clinician's number invalid", false, []step{{LegClinician, CallStatusUnreached}}, CallFailed, "telephone.clinicians"},
		{"clinician hangs up without pressing 1", false, []step{{LegClinician, CallStatusCompleted}}, CallFailed, "did not press 1"},
		{"client busy", true, []step{{LegClient, CallStatusBusy}, {LegClinician, CallStatusCompleted}}, CallFailed, "Your client's phone was busy."},
		{"client does not answer", true, []step{{LegClient, CallStatusNoAnswer}}, CallFailed, "Your client did not answer."},
		{"client's number invalid", true, []step{{LegClient, CallStatusUnreached}}, CallFailed, "check it on the booking"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := NewCallAttempt(session(StatusOpen), &Participant{Number: 1}, "@dr:hs", t0)
			if len(a.ID) != 32 || a.State != CallRingingClinician {
				t.Fatalf("new attempt %+v", a)
			}
			if tc.accept && !a.Accept(t0) {
				t.Fatal("not accepted")
			}
			for _, s := range tc.steps {
				a.Apply(s.leg, s.st, t0)
			}
			if a.State != tc.want || !strings.Contains(a.Problem, tc.problem) {
				t.Errorf("state %s problem %q, want %s %q", a.State, a.Problem, tc.want, tc.problem)
			}
			// Over: late or replayed reports change nothing; it cannot be accepted again.
			if !a.Active() && (a.Apply(LegClient, CallStatusAnswered, t0) || a.Accept(t0)) {
				t.Error("an attempt that is over moved")
			}
			if a.Words() == "" {
				t.Error("no words")
			}
		})
	}
}
