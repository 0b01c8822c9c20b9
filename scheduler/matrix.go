package scheduler

import (
	"context"
	"fmt"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"html"
	"strings"
)

// MatrixSender is the Matrix side, as the outbox uses it (the appservice implements it).
type MatrixSender interface {
	// OwnAccount reports whether a participant's Matrix ID is a person's own account, not the
	// ghost the bridge made for a web-link guest: only an own account is written to.
	OwnAccount(userID string) bool
	// RoomLink is a link that opens a room in the person's Matrix app (matrix.to).
	RoomLink(roomID string) string
	// SendDirect posts a message in the direct chat between the bot and the user, checked to
	// hold only the two of them (a new one is opened otherwise). It returns the event ID.
	// Errors are *SendError when the homeserver refused for good (no such account).
	SendDirect(ctx context.Context, userID string, m MatrixMessage) (eventID string, err error)
}

// MatrixMessage is a rendered Matrix notification: plain text and HTML.
type MatrixMessage struct {
	Text string
	HTML string
}

// UseMatrix connects the Matrix side, which is created after the scheduler. Without it, no
// notification goes to Matrix accounts.
func (nt *Notifier) UseMatrix(m MatrixSender) { nt.matrix = m }

// ownMatrixAccount reports whether the participant is booked with their own Matrix account.
func (nt *Notifier) ownMatrixAccount(userID string) bool {
	return userID != "" && nt.matrix != nil && nt.matrix.OwnAccount(userID)
}

// RenderMatrix writes a notice for a direct chat with the bot, in the participant's language
// and zone. The chat holds only the bot and the participant, so it may carry the session
// room's link (roomLink, for the waiting room's opening); like every notice it names the
// clinic, never a reason or a specialty.
func RenderMatrix(n Notice, roomLink string) (MatrixMessage, error) {
	w, err := whenOf(n)
	if err != nil {
		return MatrixMessage{}, err
	}
	if n.Kind == bridge.NoticePhoneIntro {
		return MatrixMessage{}, fmt.Errorf("rendering a Matrix message for session %s: the telephone introduction goes by SMS only", n.Session.ID)
	}
	c := emailContentOf(n, w)
	paragraphs := c.Paragraphs
	// after follows the room's link, when there is one.
	var linkText string
	var after []string
	switch {
	case n.Kind == bridge.NoticeWindowOpen && roomLink == "":
		return MatrixMessage{}, fmt.Errorf("rendering the waiting room's opening for session %s: the session has no room", n.Session.ID)
	case n.Kind == bridge.NoticeWindowOpen && w.fr:
		paragraphs = append(paragraphs, "Ouvrez le salon de la séance avec ce lien, puis choisissez « Demander à rejoindre » : votre praticien vous fera entrer.")
		linkText = "Ouvrir la salle d'attente"
		after = []string{"Si votre application ne propose pas de demander à rejoindre, restez ici : votre praticien peut vous inviter directement."}
	case n.Kind == bridge.NoticeWindowOpen:
		paragraphs = append(paragraphs, "Open the session's room with this link, then choose “Ask to join”: your clinician will let you in.")
		linkText = "Open the waiting room"
		after = []string{"If your app cannot ask to join, stay here: your clinician can invite you directly."}
	case n.Kind.SomethingToComplete() && n.Link != "":
		roomLink, linkText = n.Link, c.LinkLabel
	case (n.Kind == bridge.NoticeConfirmation || n.Kind == bridge.NoticeReschedule) && w.fr:
		paragraphs = append(paragraphs, "Je vous enverrai ici le lien de la salle d'attente à son ouverture.")
	case n.Kind == bridge.NoticeConfirmation || n.Kind == bridge.NoticeReschedule:
		paragraphs = append(paragraphs, "I will send you the waiting room's link here when it opens.")
	}
	var text, body strings.Builder
	write := func(ps []string) {
		for _, p := range ps {
			text.WriteString(p + "\n")
			body.WriteString("<p>" + html.EscapeString(p) + "</p>")
		}
	}
	write(paragraphs)
	if linkText != "" {
		text.WriteString(linkText + ": " + roomLink + "\n")
		body.WriteString(`<p><a href="` + html.EscapeString(roomLink) + `">` + html.EscapeString(linkText) + "</a></p>")
	}
	write(after)
	return MatrixMessage{Text: strings.TrimSuffix(text.String(), "\n"), HTML: body.String()}, nil
}
