package scheduler

import (
	"fmt"

	ics "github.com/arran4/golang-ical"
)

// InviteUID is a calendar invite's UID: one per session and participant, the same in every
// update and in the cancellation, so calendars replace or remove the event they already hold.
func InviteUID(n Notice) string {
	return fmt.Sprintf("session-%s-%d@%s", n.Session.ID, n.Participant.ID, n.Clinic.Domain)
}

// RenderInvite writes the calendar invite (iTIP, RFC 5546) a notice's email carries: METHOD
// REQUEST for a confirmation, reminder or reschedule; CANCEL with STATUS CANCELLED for a
// cancellation; nothing (nil, "") for the waiting room opening or a telephone introduction. It
// names the clinic only: calendars are shared and synced to many places.
func RenderInvite(n Notice) (invite []byte, method string, err error) {
	var m ics.Method
	switch n.Kind {
	case NoticeConfirmation, NoticeReminder, NoticeReschedule:
		m = ics.MethodRequest
	case NoticeCancellation:
		m = ics.MethodCancel
	default:
		return nil, "", nil
	}
	w, err := whenOf(n)
	if err != nil {
		return nil, "", err
	}
	switch {
	case n.Clinic.Domain == "" || n.Clinic.Email == "":
		return nil, "", fmt.Errorf("writing the calendar invite for session %s: the clinic's domain and email address are needed", n.Session.ID)
	case n.Participant.Email == "":
		return nil, "", fmt.Errorf("writing the calendar invite for session %s: the participant has no email address", n.Session.ID)
	}
	c := emailContentOf(n, w)
	cal := ics.NewCalendarFor("telehealth-bridge")
	cal.SetMethod(m)
	ev := cal.AddEvent(InviteUID(n))
	ev.SetSequence(n.Sequence)
	ev.SetDtStampTime(n.Now)
	ev.SetStartAt(n.Session.Start)
	ev.SetEndAt(n.Session.End)
	ev.SetSummary(c.inviteSummary)
	ev.SetOrganizer("mailto:"+n.Clinic.Email, ics.WithCN(n.Clinic.Name))
	// No CN: the participant's name stays out of the invite. RSVP=FALSE: nothing reads replies.
	ev.AddAttendee("mailto:"+n.Participant.Email, ics.ParticipationRoleReqParticipant,
		ics.ParticipationStatusNeedsAction, &ics.KeyValues{Key: string(ics.ParameterRsvp), Value: []string{"FALSE"}})
	if n.Link != "" {
		ev.SetURL(n.Link)
		ev.SetDescription(c.LinkLabel + ": " + n.Link)
	}
	if m == ics.MethodCancel {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	// RFC 5545 lines end with CRLF; the library's default is LF.
	return []byte(cal.Serialize(ics.WithNewLine("\r\n"))), string(m), nil
}
