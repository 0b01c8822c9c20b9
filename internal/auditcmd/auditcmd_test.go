package auditcmd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/config"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/auditcmd"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

var t0 = time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)

// Someone with access to the database rewrites who admitted a patient (after dropping the
// triggers that refuse it), then deletes a row: `audit verify` names the row each time, while the
// bridge keeps running on the database.
func TestVerifyFindsTheTamperedRow(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			dbCfg := dbtest.Config(t, kind)
			db, err := database.Open(ctx, dbCfg, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for i := range 10 {
				if err = db.Audit.Record(ctx, bridge.AuditEntry{At: t0.Add(time.Duration(i) * time.Minute), Actor: "@dr:hs",
					Action: bridge.AuditAdmit, SessionID: "abc234", Subject: fmt.Sprintf("participant:%d", i+1)}); err != nil {
					t.Fatal(err)
				}
			}
			cfg := &config.Config{Database: config.DatabaseConfig{Type: dbCfg.Type, URI: dbCfg.URI}}
			verify := func() (string, error) {
				var out bytes.Buffer
				err := auditcmd.Run(ctx, cfg, []string{"verify"}, &out)
				return out.String(), err
			}
			out, err := verify()
			if err != nil || !strings.Contains(out, "10 rows checked") {
				t.Fatalf("verify of an intact trail: %q %v", out, err)
			}
			anchor := out[strings.LastIndex(out, " ")+1 : len(out)-1]
			if !strings.HasPrefix(anchor, "10:") {
				t.Fatalf("verify printed the anchor %q, want 10:<hash>", anchor)
			}
			verifyAnchor := func() error {
				return auditcmd.Run(ctx, cfg, []string{"verify", "--anchor", anchor}, &bytes.Buffer{})
			}
			if err = verifyAnchor(); err != nil {
				t.Fatalf("verify with its own anchor: %v", err)
			}

			dropTriggers(t, db)
			if _, err = db.Exec(ctx, `UPDATE telehealth_audit SET actor='@intern:hs' WHERE id=4`); err != nil {
				t.Fatal(err)
			}
			_, err = verify()
			if !errors.Is(err, auditcmd.ErrBroken) || !strings.Contains(err.Error(), "row 4:") || !strings.Contains(err.Error(), "changed") {
				t.Errorf("verify after row 4 was edited: %v", err)
			}
			// Put it back and delete another row instead.
			if _, err = db.Exec(ctx, `UPDATE telehealth_audit SET actor='@dr:hs' WHERE id=4`); err != nil {
				t.Fatal(err)
			}
			if _, err = db.Exec(ctx, `DELETE FROM telehealth_audit WHERE id=6`); err != nil {
				t.Fatal(err)
			}
			_, err = verify()
			if !errors.Is(err, auditcmd.ErrBroken) || !strings.Contains(err.Error(), "row 7:") || !strings.Contains(err.Error(), "row 6 before it is missing") {
				t.Errorf("verify after row 6 was deleted: %v", err)
			}
			// Cutting rows off the end leaves a chain that holds: only the anchor shows it.
			if _, err = db.Exec(ctx, `DELETE FROM telehealth_audit WHERE id >= 6`); err != nil {
				t.Fatal(err)
			}
			if _, err = verify(); err != nil {
				t.Fatalf("verify without the anchor after the end was cut: %v", err)
			}
			err = verifyAnchor()
			if !errors.Is(err, auditcmd.ErrBroken) || !strings.Contains(err.Error(), "anchor row 10 is gone") {
				t.Errorf("verify --anchor after rows 6 to 10 were deleted: %v", err)
			}
		})
	}
}

func dropTriggers(t *testing.T, db *database.Database) {
	t.Helper()
	stmts := []string{`DROP TRIGGER telehealth_audit_no_update`, `DROP TRIGGER telehealth_audit_no_delete`}
	if db.Dialect == dbutil.Postgres {
		stmts = []string{`DROP TRIGGER telehealth_audit_no_update ON telehealth_audit`}
	}
	for _, s := range stmts {
		if _, err := db.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

// The export holds the entries of the days asked for, one JSON object a line, in a file only its
// owner reads.
func TestExport(t *testing.T) {
	ctx := context.Background()
	dbCfg := dbtest.Config(t, "sqlite")
	db, err := database.Open(ctx, dbCfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for day := range 3 {
		if err = db.Audit.Record(ctx, bridge.AuditEntry{At: t0.AddDate(0, 0, day), Actor: "@dr:hs", Action: bridge.AuditEnd, SessionID: fmt.Sprintf("s%d", day)}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := &config.Config{Database: config.DatabaseConfig{Type: dbCfg.Type, URI: dbCfg.URI}}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	var out bytes.Buffer
	if err = auditcmd.Run(ctx, cfg, []string{"export", "--from", "2026-11-25", "--to", "2026-11-26", "--out", path}, &out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"session_id":"s1"`) || !strings.Contains(lines[1], `"session_id":"s2"`) {
		t.Errorf("export of the 25th and 26th:\n%s", data)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("export file is %04o", info.Mode().Perm())
	}
	for _, bad := range [][]string{{"export", "--from", "yesterday"}, {"export", "--from", "2026-11-26", "--to", "2026-11-25"}, {"rewrite"}, {}} {
		if err := auditcmd.Run(ctx, cfg, bad, &out); err == nil {
			t.Errorf("audit %q was accepted", bad)
		}
	}
}
