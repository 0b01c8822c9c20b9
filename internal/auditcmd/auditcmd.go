// Package auditcmd is `telehealth-bridge audit`: it checks the audit trail's hash chain and
// exports it for a compliance officer. It reads the bridge's database and may run while the
// bridge runs.
package auditcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/config"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// Usage describes the subcommands.
const Usage = `usage:
  telehealth-bridge [-c config.yaml] audit verify [--anchor ID:HASH]
      Checks the audit trail's hash chain and names the first row that was changed or removed.
      It prints the last row as an anchor (ID:HASH): keep it outside the bridge (a ticket, an
      email) and give it back with --anchor to find rows removed from the end too.
  telehealth-bridge [-c config.yaml] audit export [--from DATE] [--to DATE] [--out FILE]
      Writes the entries from --from (included) to --to as JSON lines, oldest first, to FILE or
      standard output. DATE is 2026-11-24 (UTC; a --to date includes that whole day) or
      2026-11-24T15:00:00+01:00. Without them: everything up to now.`

// ErrBroken means the chain does not hold: verify exits with an error.
var ErrBroken = errors.New("the audit trail is broken")

// Run runs `audit <args>` on the config's database.
func Run(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	db := database.Config{Type: cfg.Database.Type, URI: cfg.Database.URI, MaxOpenConns: 1, MaxIdleConns: 1}
	if len(args) == 0 {
		return fmt.Errorf("audit: say what to do\n%s", Usage)
	}
	switch args[0] {
	case "verify":
		fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		anchor := fs.String("anchor", "", "ID:HASH printed by an earlier verify")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
			return fmt.Errorf("audit verify takes only --anchor ID:HASH\n%s", Usage)
		}
		return withDatabase(ctx, db, func(d *database.Database) error { return verify(ctx, d, *anchor, stdout) })
	case "export":
		from, to, out, err := exportFlags(args[1:], time.Now())
		if err != nil {
			return err
		}
		return withDatabase(ctx, db, func(d *database.Database) error { return export(ctx, d, from, to, out, stdout) })
	default:
		return fmt.Errorf("audit: unknown command %q\n%s", args[0], Usage)
	}
}

func withDatabase(ctx context.Context, cfg database.Config, f func(*database.Database) error) error {
	cfg.Beside = true
	db, err := database.Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		return err
	}
	defer db.Close()
	return f(db)
}

func verify(ctx context.Context, db *database.Database, anchor string, stdout io.Writer) error {
	var anchorID int64
	var anchorHash string
	if anchor != "" {
		idText, hash, ok := strings.Cut(anchor, ":")
		id, err := strconv.ParseInt(idText, 10, 64)
		if !ok || err != nil || id < 1 || hash == "" {
			return fmt.Errorf("audit verify --anchor: %q is not ID:HASH as printed by verify", anchor)
		}
		anchorID, anchorHash = id, hash
	}
	n, broken, err := db.Audit.Verify(ctx)
	if err != nil {
		return err
	}
	if broken != nil {
		return fmt.Errorf("%w at row %d: %s (the %d rows before it are intact)", ErrBroken, broken.ID, broken.Reason, n)
	}
	if anchorID > 0 {
		// Every row up to the last is intact and chained, so the anchor row still having its
		// hash proves nothing before it changed; its absence means rows were cut off the end.
		row, err := db.Audit.Row(ctx, anchorID)
		if err != nil {
			return err
		}
		if row == nil {
			return fmt.Errorf("%w: the anchor row %d is gone: the trail ends at row %d, so rows were removed from its end", ErrBroken, anchorID, n)
		}
		if row.Hash != anchorHash {
			return fmt.Errorf("%w at row %d: its hash is not the anchor's (the trail was rewritten from there or before)", ErrBroken, anchorID)
		}
	}
	if n == 0 {
		_, err = fmt.Fprintln(stdout, "The audit trail is empty.")
		return err
	}
	last, err := db.Audit.Row(ctx, n)
	if err != nil || last == nil {
		return fmt.Errorf("reading the last audit row: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "The audit trail holds: %d rows checked, each chained to the one before.\nAnchor (keep it elsewhere, pass it as --anchor next time): %d:%s\n", n, last.ID, last.Hash)
	return err
}

func export(ctx context.Context, db *database.Database, from, to time.Time, out string, stdout io.Writer) error {
	w := stdout
	if out != "" {
		// The export names patients' Matrix accounts: readable by its owner only.
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("creating the export file: %w", err)
		}
		defer f.Close()
		w = f
	}
	n, err := db.Audit.Export(ctx, from, to, w)
	if err != nil {
		return err
	}
	if out != "" {
		_, err = fmt.Fprintf(stdout, "Wrote %d audit entries to %s.\n", n, out)
	}
	return err
}

func exportFlags(args []string, now time.Time) (from, to time.Time, out string, err error) {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fromText := fs.String("from", "", "first day or instant (included)")
	toText := fs.String("to", "", "last day (included) or instant (excluded)")
	fs.StringVar(&out, "out", "", "file to write (created; never overwritten)")
	if err = fs.Parse(args); err != nil {
		return from, to, "", fmt.Errorf("audit export: %w\n%s", err, Usage)
	}
	if fs.NArg() > 0 {
		return from, to, "", fmt.Errorf("audit export: unexpected %q\n%s", fs.Arg(0), Usage)
	}
	to = now
	if *fromText != "" {
		if from, _, err = parseWhen(*fromText); err != nil {
			return from, to, "", fmt.Errorf("audit export --from: %w", err)
		}
	}
	if *toText != "" {
		var day bool
		if to, day, err = parseWhen(*toText); err != nil {
			return from, to, "", fmt.Errorf("audit export --to: %w", err)
		}
		if day {
			to = to.AddDate(0, 0, 1)
		}
	}
	if !from.Before(to) {
		return from, to, "", fmt.Errorf("audit export: --from %s is not before --to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, out, nil
}

// parseWhen reads a date (UTC, day true) or an RFC 3339 instant.
func parseWhen(s string) (time.Time, bool, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, false, fmt.Errorf("%q is neither 2026-11-24 nor 2026-11-24T15:00:00+01:00", s)
	}
	return t, false, nil
}
