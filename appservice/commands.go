package appservice

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/shlex"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/commands"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// commandEvent is a command with the connector that runs it.
type commandEvent = commands.Event[*Connector]

// commandProcessor runs the bot's `!` commands with mautrix's commands package.
type commandProcessor struct {
	proc *commands.Processor[*Connector]
}

// command is one bot command: its usage line, who may use it, where it answers and what it does.
type command struct {
	name, args, help string
	// clinician: only the clinic's clinicians may use it.
	clinician bool
	// private: the answer holds a credential, a link or people's names, so it goes only to the
	// sender's control room (their direct chat with the bot); typed elsewhere, the room reads
	// only that it was sent there.
	private bool
	run     func(ce *commandEvent)
}

// commandList is the bot's commands, in the order !help shows them.
func commandList() []command {
	return []command{
		{"help", "", "this list", false, false, cmdHelp},
		{"sessions", "", "your upcoming and ongoing sessions, next first", true, true, cmdSessions},
		{"schedule", "<date> <time> <time zone> <name> <email|sms|none> [contact] [duration=50m] [kind=video|phone] [admission=manual|auto] [lang=en|fr] [tz=<participant's zone>] [matrix=@user:server]",
			"book a session, e.g. `!schedule 2026-11-24 15:00 Europe/Paris \"J. D.\" email jd@example.org`", true, true, cmdSchedule},
		{"lobby", "<session>", "who is booked, waiting and in the session", true, true, cmdLobby},
		{"client", "<name, email or phone>", "find a client record: contacts, professionals and your sessions with them", true, true, cmdClient},
		{"prospects", "", "the people who signed up on the portal, waiting to be linked to a client record", true, true, cmdProspects},
		{"link-prospect", "<prospect> <client>", "link a sign-up to a client record (its #number, or a name that matches one)", true, true, cmdLinkProspect},
		{"assign-form", "<client> <form>", "give a client a form to complete in their portal, e.g. `!assign-form #12 PHQ-9` (client: number or name; form: number or title)", true, true, cmdAssignForm},
		{"notifications", "<session>", "the confirmations and reminders of a session: sent, planned, or why not sent", true, true, cmdNotifications},
		{"start", "<session>", "say you are in: with automatic admission, those waiting enter", true, false, cmdStart},
		{"admit", "<session> [participant] [anyway]", "let a participant in (their number, or the only one waiting); `anyway` admits one who has not paid", true, false, cmdAdmit},
		{"admit-all", "<session>", "let everyone waiting in", true, false, cmdAdmitAll},
		{"deny", "<session> [participant]", "refuse someone waiting", true, false, cmdDeny},
		{"remove", "<session> <participant>", "take someone out of the session", true, false, cmdRemove},
		{"send-back", "<session> <participant>", "send someone back to the waiting room", true, false, cmdSendBack},
		{"ban", "<session> <participant>", "remove and ban someone, for abuse", true, false, cmdBan},
		{"message", "<session> <text>", "a message to those waiting, e.g. running 5 minutes late", true, false, cmdMessage},
		{"reschedule", "<session> <date> <time> [time zone] [duration=50m]", "move a session", true, false, cmdReschedule},
		{"cancel", "<session>", "call a session off", true, false, cmdCancel},
		{"end", "<session>", "end the meeting for all", true, false, cmdEnd},
		{"sms", "<session> [#participant] <text>", "text a participant a message of your own (no health details: texts are not private)", true, false, cmdSMS},
		{"call", "<session> [participant]", "telephone session: ring your phone, then connect the participant (from the clinic's number)", true, false, cmdCall},
		{"join", "<session>", "a one-time link to the session's call page, for apps without widgets (Element X)", false, true, cmdJoin},
		{"login", "", "a one-time link that signs you in to the web panel", true, true, cmdLogin},
	}
}

func newCommandProcessor(c *Connector) *commandProcessor {
	proc := newProcessor(c.bot.Client)
	proc.Meta = c
	for _, cmd := range commandList() {
		proc.Register(&commands.Handler[*Connector]{
			Name:        cmd.name,
			Description: event.MakeExtensibleText(cmd.help),
			Func:        func(ce *commandEvent) { ce.Meta.runBotCommand(ce, cmd) },
		})
	}
	// mautrix's own fallback answers every unknown `!` word in every room.
	proc.Unregister(proc.GetHandler(commands.UnknownCommandName))
	proc.Register(&commands.Handler[*Connector]{Name: commands.UnknownCommandName, Func: cmdUnknown})
	return &commandProcessor{proc: proc}
}

// newProcessor is the command parser: a message is a command when its first word starts with
// `!`.
func newProcessor(cli *mautrix.Client) *commands.Processor[*Connector] {
	return commands.NewProcessor[*Connector](cli)
}

// runBotCommand checks who may run a command where, then runs it. Outside the sender's control
// room only clinicians are answered: in a session room a participant's `!` words are
// conversation, and the bot stays quiet.
func (c *Connector) runBotCommand(ce *commandEvent, cmd command) {
	sender := ce.Sender.String()
	clinician := c.cfg.IsClinician(sender)
	if !clinician && !c.isControlRoomOf(ce.Ctx, ce.RoomID, ce.Sender) {
		return
	}
	if cmd.clinician && !clinician {
		reply(ce, (&notice{}).text("Only the clinic's clinicians can use this command."))
		return
	}
	if cmd.private && !c.answerPrivately(ce) {
		return
	}
	cmd.run(ce)
}

// answerPrivately makes the command's answers go to the sender's control room, checked to hold
// only the bot and them (a new one is made otherwise). Asked elsewhere, the room reads only
// where the answer went.
func (c *Connector) answerPrivately(ce *commandEvent) bool {
	room, err := c.controlRoom(ce.Ctx, ce.Sender)
	if err != nil {
		ce.Log.Err(err).Msg("Failed to find a control room for a private answer")
		reply(ce, (&notice{}).text("I could not reach our direct chat to answer; please try again."))
		return false
	}
	if room != ce.RoomID {
		reply(ce, (&notice{}).text("I sent it to our direct chat."))
		ce.Ctx = context.WithValue(ce.Ctx, answerRoomKey{}, room)
	}
	return true
}

// answerRoomKey carries, in a command's context, the room its answers go to instead of the
// room it was typed in.
type answerRoomKey struct{}

// isControlRoomOf reports whether the room is the user's control room.
func (c *Connector) isControlRoomOf(ctx context.Context, room id.RoomID, user id.UserID) bool {
	owner, err := c.db.ControlRoom.Owner(ctx, room.String())
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to look up a control room")
		return false
	}
	return owner == user.String()
}

// cmdUnknown explains an unknown command, in the sender's control room only: elsewhere a `!`
// word may be anything.
func cmdUnknown(ce *commandEvent) {
	if ce.Meta.isControlRoomOf(ce.Ctx, ce.RoomID, ce.Sender) {
		reply(ce, (&notice{}).text("Unknown command ").code("!"+ce.Command).text(". Send !help for the list."))
	}
}

func (p *commandProcessor) process(ctx context.Context, evt *event.Event) {
	p.proc.Process(ctx, evt)
}

// reply answers a command with a notice: in the command's room, as a reply, or in the room
// answerPrivately chose. A room past its share of answers (roomLimiter) gets none.
func reply(ce *commandEvent, n *notice) {
	content := n.content()
	room := ce.RoomID
	if private, ok := ce.Ctx.Value(answerRoomKey{}).(id.RoomID); ok {
		room = private
	} else {
		content.SetReply(ce.Event)
	}
	if !ce.Meta.replies.allow(room.String(), time.Now()) {
		ce.Log.Debug().Msg("Too many answers in the room; this one is dropped")
		return
	}
	if _, err := ce.Proc.Client.SendMessageEvent(ce.Ctx, room, event.EventMessage, content); err != nil {
		ce.Log.Err(err).Msg("Failed to answer a command")
	}
}

func replyText(ce *commandEvent, format string, args ...any) {
	reply(ce, (&notice{}).text(fmt.Sprintf(format, args...)))
}

// replyErr answers with what went wrong, in words a clinician can act on.
func replyErr(ce *commandEvent, doing string, err error) {
	reply(ce, (&notice{}).text(fmt.Sprintf("Could not %s: %s.", doing, errText(err))))
}

func cmdHelp(ce *commandEvent) {
	n := (&notice{}).text("Telehealth bridge commands").line()
	for _, cmd := range commandList() {
		usage := "!" + cmd.name
		if cmd.args != "" {
			usage += " " + cmd.args
		}
		n.code(usage).text(": " + strings.ReplaceAll(cmd.help, "`", "")).line()
	}
	n.text("A session's commands also work without its ID inside its room. Links, lists and names always come to our direct chat.")
	reply(ce, n)
}

// sessionArg takes the session a command is about: its ID as the first argument, or the
// room's session when the command is sent in a session's room.
func sessionArg(ce *commandEvent) (string, bool) {
	c := ce.Meta
	if len(ce.Args) > 0 {
		if s, err := c.svc.Session(ce.Ctx, ce.Args[0]); err == nil {
			ce.ShiftArg()
			return s.ID, true
		}
	}
	if s, err := c.svc.SessionByRoom(ce.Ctx, ce.RoomID.String()); err == nil {
		return s.ID, true
	}
	if len(ce.Args) > 0 {
		replyText(ce, "There is no session %q. Send !sessions to see yours.", ce.Args[0])
	} else {
		replyText(ce, "Which session? Give its ID (send !sessions to see them).")
	}
	return "", false
}

func cmdSessions(ce *commandEvent) {
	sessions, err := ce.Meta.svc.Sessions(ce.Ctx, ce.Sender.String())
	if err != nil {
		replyErr(ce, "list your sessions", err)
		return
	}
	if len(sessions) == 0 {
		replyText(ce, "You have no upcoming sessions. Book one with !schedule.")
		return
	}
	n := (&notice{}).text("Your upcoming and ongoing sessions, next first:").line()
	for _, s := range sessions {
		_, ps, err := ce.Meta.svc.Lobby(ce.Ctx, ce.Sender.String(), s.ID)
		if err != nil {
			continue
		}
		waiting := 0
		for _, p := range ps {
			if p.State == bridge.StateWaiting {
				waiting++
			}
		}
		n.code(s.ID).text(fmt.Sprintf(" · %s–%s · %s · %s", bridge.FormatTime(s.Start, s.Location()),
			s.End.In(s.Location()).Format("15:04"), s.Kind.Label(), s.Status))
		if s.Kind == bridge.KindPhone {
			// The number to call: this answer goes only to the clinician's control room.
			for _, p := range ps {
				n.text(fmt.Sprintf(" · call %d at %s", p.Number, bridge.ReadablePhone(p.Phone)))
			}
		}
		if waiting > 0 {
			n.text(fmt.Sprintf(" · %d waiting", waiting))
		}
		n.line()
	}
	reply(ce, n)
}

func cmdLobby(ce *commandEvent) {
	sessionID, ok := sessionArg(ce)
	if !ok {
		return
	}
	s, ps, err := ce.Meta.svc.ShowLobby(ce.Ctx, ce.Sender.String(), sessionID, "lobby")
	if err != nil {
		replyErr(ce, "show the lobby", err)
		return
	}
	pays, err := ce.Meta.svc.SessionPayments(ce.Ctx, ce.Sender.String(), s.ID)
	if err != nil {
		replyErr(ce, "show the lobby", err)
		return
	}
	// Who has acknowledged the session's documents, when its package asks for it (the
	// documents' IDs only: their titles stay on the panel).
	_, acks, err := ce.Meta.svc.SessionAckStatus(ce.Ctx, ce.Sender.String(), s.ID)
	if err != nil {
		replyErr(ce, "show the lobby", err)
		return
	}
	// The package's forms: done or not, never which or what was answered.
	forms, err := ce.Meta.svc.SessionFormStatus(ce.Ctx, ce.Sender.String(), s.ID)
	if err != nil {
		replyErr(ce, "show the lobby", err)
		return
	}
	ackOf := map[int64]string{}
	for _, st := range forms {
		if len(st.Missing) == 0 {
			ackOf[st.Participant.ID] = " · forms done"
		} else {
			ackOf[st.Participant.ID] = fmt.Sprintf(" · forms not done (%d of %d)", len(st.Done), len(st.Done)+len(st.Missing))
		}
	}
	for _, st := range acks {
		if len(st.Missing) == 0 {
			ackOf[st.Participant.ID] += " · documents acknowledged"
		} else {
			ackOf[st.Participant.ID] += fmt.Sprintf(" · documents not acknowledged (%d of %d)", len(st.Acked), len(st.Acked)+len(st.Missing))
		}
	}
	n := (&notice{}).text(fmt.Sprintf("Session %s · %s · %s", s.ID, bridge.FormatTime(s.Start, s.Location()), s.Status)).line()
	for _, p := range ps {
		n.text(fmt.Sprintf("%d · ", p.Number)).user(p.DisplayName()).text(" · " + strings.ReplaceAll(string(p.State), "_", " "))
		if pay := pays[p.ID]; pay != nil {
			n.text(" · " + paymentWords(pay.Status))
		}
		n.text(ackOf[p.ID]).line()
	}
	if s.LobbyMessage != "" {
		n.text("Message to those waiting: ").user(s.LobbyMessage)
	}
	reply(ce, n)
}

func cmdNotifications(ce *commandEvent) {
	sessionID, ok := sessionArg(ce)
	if !ok {
		return
	}
	s, ps, err := ce.Meta.svc.ShowLobby(ce.Ctx, ce.Sender.String(), sessionID, "notifications")
	if err != nil {
		replyErr(ce, "show the notifications", err)
		return
	}
	rows, err := ce.Meta.db.Outbox.ForSession(ce.Ctx, s.ID)
	if err != nil {
		replyErr(ce, "show the notifications", err)
		return
	}
	n := (&notice{}).text(fmt.Sprintf("Notifications of session %s", s.ID)).line()
	if len(rows) == 0 {
		n.text("None: no participant is told by SMS, email or Matrix.")
	}
	for _, row := range rows {
		name := ""
		for _, p := range ps {
			if p.ID == row.ParticipantID {
				name = fmt.Sprintf("%d · %s", p.Number, p.DisplayName())
			}
		}
		n.user(name).text(fmt.Sprintf(" · %s %s · ", row.Channel, strings.ReplaceAll(string(row.Kind), "_", " ")))
		switch row.Status {
		case bridge.NotificationPending, bridge.NotificationSending:
			n.text("planned for " + bridge.FormatTime(row.Due, s.Location()))
			if row.LastError != "" && row.Attempts > 0 {
				n.text(fmt.Sprintf(", attempt %d failed: ", row.Attempts)).user(row.LastError)
			}
		case bridge.NotificationSent:
			n.text("sent " + bridge.FormatTime(row.UpdatedAt, s.Location()))
		default:
			n.text(string(row.Status)).text(": ").user(row.LastError)
		}
		n.line()
	}
	reply(ce, n)
}

// participantCommand runs a lobby action on one participant.
func participantCommand(ce *commandEvent, doing, done string, act func(ctx context.Context, actor, id, ref string) (*bridge.Participant, error)) {
	sessionID, ok := sessionArg(ce)
	if !ok {
		return
	}
	p, err := act(ce.Ctx, ce.Sender.String(), sessionID, strings.Join(ce.Args, " "))
	if err != nil {
		replyErr(ce, doing, err)
		return
	}
	reply(ce, (&notice{}).user(p.DisplayName()).text(fmt.Sprintf(" %s (session %s).", done, sessionID)))
}

// paymentWords is a payment's state in the control room: whether they paid, never what for.
func paymentWords(st bridge.PaymentStatus) string {
	switch st {
	case bridge.PaymentPaid:
		return "paid"
	case bridge.PaymentWaived:
		return "payment waived"
	case bridge.PaymentRefunded:
		return "refunded"
	case bridge.PaymentPending:
		return "not paid (paying now)"
	}
	return "not paid"
}

// cmdAdmit lets a participant in; one who has not paid is let in only with "anyway" at the
// end (!admit <session> <n> anyway), and never where the clinic blocks it.
func cmdAdmit(ce *commandEvent) {
	if n := len(ce.Args); n > 0 && strings.EqualFold(ce.Args[n-1], "anyway") {
		ce.Args = ce.Args[:n-1]
		participantCommand(ce, "admit", "is let in without payment", ce.Meta.svc.AdmitAnyway)
		return
	}
	sessionID, ok := sessionArg(ce)
	if !ok {
		return
	}
	ref := strings.Join(ce.Args, " ")
	p, err := ce.Meta.svc.Admit(ce.Ctx, ce.Sender.String(), sessionID, ref)
	if errors.Is(err, bridge.ErrPaymentDue) && p != nil {
		number := strconv.Itoa(p.Number)
		reply(ce, (&notice{}).text("Payment is missing: ").user(p.DisplayName()).text(" has not paid. To admit without payment: ").
			code(fmt.Sprintf("!admit %s %s anyway", sessionID, number)))
		return
	}
	if err != nil {
		replyErr(ce, "admit", err)
		return
	}
	reply(ce, (&notice{}).user(p.DisplayName()).text(fmt.Sprintf(" is let in (session %s).", sessionID)))
}

func cmdDeny(ce *commandEvent) {
	participantCommand(ce, "deny", "was not admitted", ce.Meta.svc.Deny)
}

func cmdRemove(ce *commandEvent) {
	participantCommand(ce, "remove", "was removed", ce.Meta.svc.Remove)
}

func cmdSendBack(ce *commandEvent) {
	participantCommand(ce, "send back", "was sent back to the waiting room", ce.Meta.svc.SendBack)
}

func cmdBan(ce *commandEvent) {
	participantCommand(ce, "ban", "was removed and banned", ce.Meta.svc.Ban)
}

func cmdAdmitAll(ce *commandEvent) {
	sessionID, ok := sessionArg(ce)
	if !ok {
		return
	}
	admitted, err := ce.Meta.svc.AdmitAll(ce.Ctx, ce.Sender.String(), sessionID)
	if err != nil {
		replyErr(ce, "admit everyone", err)
		return
	}
	if len(admitted) == 0 {
		replyText(ce, "Nobody is waiting in session %s.", sessionID)
		return
	}
	replyText(ce, "%d let in (session %s).", len(admitted), sessionID)
}

// sessionCommand runs an action on a whole session.
func sessionCommand(ce *commandEvent, doing string, act func(ctx context.Context, actor, id string) (*bridge.Session, error), done func(*bridge.Session) string) {
	sessionID, ok := sessionArg(ce)
	if !ok {
		return
	}
	s, err := act(ce.Ctx, ce.Sender.String(), sessionID)
	if err != nil {
		replyErr(ce, doing, err)
		return
	}
	replyText(ce, "%s", done(s))
}

func cmdStart(ce *commandEvent) {
	sessionCommand(ce, "start the session", ce.Meta.svc.Start, func(s *bridge.Session) string {
		if s.Policy == bridge.PolicyAutoAdmit {
			return fmt.Sprintf("Session %s is live: participants enter as they arrive.", s.ID)
		}
		return fmt.Sprintf("Session %s is live.", s.ID)
	})
}

func cmdEnd(ce *commandEvent) {
	sessionCommand(ce, "end the session", ce.Meta.svc.End, func(s *bridge.Session) string {
		return fmt.Sprintf("Session %s has ended for all.", s.ID)
	})
}

func cmdCancel(ce *commandEvent) {
	sessionCommand(ce, "cancel the session", ce.Meta.svc.Cancel, func(s *bridge.Session) string {
		return fmt.Sprintf("Session %s is cancelled.", s.ID)
	})
}

func cmdMessage(ce *commandEvent) {
	sessionID, ok := sessionArg(ce)
	if !ok {
		return
	}
	if _, err := ce.Meta.svc.PostLobbyMessage(ce.Ctx, ce.Sender.String(), sessionID, strings.Join(ce.Args, " ")); err != nil {
		replyErr(ce, "send the message", err)
		return
	}
	replyText(ce, "Those waiting for session %s will see your message.", sessionID)
}

// scheduleArgs are the parts of a schedule or reschedule command.
type scheduleArgs struct {
	positional []string
	options    map[string]string
}

func splitArgs(raw string) (scheduleArgs, error) {
	words, err := shlex.Split(raw)
	if err != nil {
		return scheduleArgs{}, fmt.Errorf("the quotes do not match: %w", err)
	}
	args := scheduleArgs{options: map[string]string{}}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if key, value, ok := strings.Cut(w, "="); ok && key != "" && !strings.ContainsAny(key, " @") {
			args.options[strings.ToLower(key)] = value
			continue
		}
		// "3:00 pm" is one time
		if lw := strings.ToLower(w); (lw == "am" || lw == "pm") && len(args.positional) > 0 {
			args.positional[len(args.positional)-1] += lw
			continue
		}
		args.positional = append(args.positional, w)
	}
	return args, nil
}

func cmdSchedule(ce *commandEvent) {
	c := ce.Meta
	args, err := splitArgs(ce.RawArgs)
	if err != nil {
		replyErr(ce, "schedule", err)
		return
	}
	const usage = "Usage: !schedule <date> <time> <time zone> <name> <email|sms|none> [contact] [duration=50m] [kind=video|phone] [admission=manual|auto] [lang=en|fr] [tz=<participant's zone>] [matrix=@user:server]"
	if len(args.positional) < 5 {
		replyText(ce, "%s", usage)
		return
	}
	zone := args.positional[2]
	start, err := bridge.ParseWhen(args.positional[0], args.positional[1], zone, c.svc.Now())
	if err != nil {
		replyErr(ce, "schedule", err)
		return
	}
	duration := 50 * time.Minute
	if d, ok := args.options["duration"]; ok {
		if duration, err = time.ParseDuration(d); err != nil || duration <= 0 {
			replyText(ce, "Could not schedule: duration=%s is not a duration such as 50m or 1h30m.", d)
			return
		}
	}
	p := bridge.ParticipantRequest{
		Name: args.positional[3], Invite: bridge.InviteMode(strings.ToLower(args.positional[4])),
		Locale: args.options["lang"], TimeZone: args.options["tz"], MatrixID: args.options["matrix"],
	}
	if len(args.positional) > 5 {
		switch p.Invite {
		case bridge.InviteEmail:
			p.Email = args.positional[5]
		case bridge.InviteSMS:
			p.Phone = args.positional[5]
		default:
			replyText(ce, "Could not schedule: %q after %q is unexpected.\n%s", args.positional[5], p.Invite, usage)
			return
		}
	}
	if phone, ok := args.options["phone"]; ok {
		p.Phone = phone
	}
	s, err := c.svc.Schedule(ce.Ctx, bridge.ScheduleRequest{
		Clinician: ce.Sender.String(), Start: start, End: start.Add(duration), TimeZone: zone,
		Kind: bridge.Kind(args.options["kind"]), Policy: bridge.Policy(args.options["admission"]),
		Participants: []bridge.ParticipantRequest{p},
	})
	if err != nil {
		replyErr(ce, "schedule", err)
		return
	}
	loc := s.Location()
	n := (&notice{}).text(fmt.Sprintf("Scheduled session %s (%s) on %s for ", s.ID, strings.ToLower(s.Kind.Label()), bridge.FormatTime(s.Start, loc))).user(p.Name)
	if s.Kind == bridge.KindPhone {
		_, booked, _ := c.svc.Lobby(ce.Ctx, ce.Sender.String(), s.ID)
		for _, bp := range booked {
			n.text(fmt.Sprintf(". Telephone: call them at %s (or send !call %s: the bridge rings your phone, then theirs).", bridge.ReadablePhone(bp.Phone), s.ID))
		}
	} else {
		n.text(fmt.Sprintf(". The waiting room opens at %s.", s.Opens(c.window).In(loc).Format("15:04")))
	}
	if s.RoomID != "" {
		n.text(" Its room: https://matrix.to/#/" + s.RoomID)
	}
	reply(ce, n)
}

func cmdReschedule(ce *commandEvent) {
	c := ce.Meta
	sessionID, ok := sessionArg(ce)
	if !ok {
		return
	}
	args, err := splitArgs(strings.Join(ce.Args, " "))
	if err != nil || len(args.positional) < 2 {
		replyText(ce, "Usage: !reschedule <session> <date> <time> [time zone] [duration=50m]")
		return
	}
	s, _, err := c.svc.Lobby(ce.Ctx, ce.Sender.String(), sessionID)
	if err != nil {
		replyErr(ce, "reschedule", err)
		return
	}
	zone := s.TimeZone
	if len(args.positional) > 2 {
		zone = args.positional[2]
	}
	start, err := bridge.ParseWhen(args.positional[0], args.positional[1], zone, c.svc.Now())
	if err != nil {
		replyErr(ce, "reschedule", err)
		return
	}
	duration := s.End.Sub(s.Start)
	if d, ok := args.options["duration"]; ok {
		if duration, err = time.ParseDuration(d); err != nil || duration <= 0 {
			replyText(ce, "Could not reschedule: duration=%s is not a duration such as 50m.", d)
			return
		}
	}
	s, err = c.svc.Reschedule(ce.Ctx, ce.Sender.String(), sessionID, start, start.Add(duration), zone)
	if err != nil {
		replyErr(ce, "reschedule", err)
		return
	}
	replyText(ce, "Session %s moved to %s.", s.ID, bridge.FormatTime(s.Start, s.Location()))
}

// errText is an error's message for a person.
func errText(err error) string {
	if errors.Is(err, bridge.ErrNotFound) {
		return "there is no such session"
	}
	return err.Error()
}

func cmdJoin(ce *commandEvent) {
	c := ce.Meta
	sessionID, ok := sessionArg(ce)
	if !ok {
		return
	}
	s, ps, err := c.svc.Lobby(ce.Ctx, "", sessionID)
	if err != nil {
		replyErr(ce, "make a link", err)
		return
	}
	booked := ce.Sender.String() == s.Clinician
	for _, p := range ps {
		booked = booked || p.MatrixID == ce.Sender.String()
	}
	if !booked {
		replyText(ce, "You are not booked on session %s.", sessionID)
		return
	}
	link, err := c.links.JoinLink(ce.Ctx, ce.Sender.String(), sessionID)
	if err != nil {
		replyErr(ce, "make a link", err)
		return
	}
	reply(ce, (&notice{}).text(fmt.Sprintf("Your link to session %s (valid once, for 15 minutes): %s", sessionID, link)))
}

func cmdLogin(ce *commandEvent) {
	link, err := ce.Meta.links.LoginLink(ce.Ctx, ce.Sender.String())
	if err != nil {
		replyErr(ce, "make a link", err)
		return
	}
	reply(ce, (&notice{}).text("Your sign-in link to the web panel (valid once, for 15 minutes; do not share it): "+link))
}
