package appservice

import (
	"context"
	"strings"

	"maunium.net/go/mautrix/commands"
	"maunium.net/go/mautrix/event"
)

// commandEvent is a command with the connector that runs it.
type commandEvent = commands.Event[*Connector]

// commandProcessor runs the bot's `!` commands with mautrix's commands package.
type commandProcessor struct {
	proc *commands.Processor[*Connector]
}

func newCommandProcessor(c *Connector) *commandProcessor {
	proc := commands.NewProcessor[*Connector](c.bot.Client)
	proc.Meta = c
	proc.Register(&commands.Handler[*Connector]{
		Name:        "help",
		Func:        cmdHelp,
		Description: event.MakeExtensibleText("Show the commands"),
	})
	return &commandProcessor{proc: proc}
}

func (p *commandProcessor) process(ctx context.Context, evt *event.Event) {
	p.proc.Process(ctx, evt)
}

// helpText is the bot's answer to !help, one line per command.
var helpText = []string{
	"**Telehealth bridge commands**",
	"",
	"* `!help`: this list.",
}

func cmdHelp(ce *commandEvent) {
	ce.Reply(strings.Join(helpText, "\n"))
}
