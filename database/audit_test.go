package database_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

var auditT0 = time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)

func appendAudit(t testing.TB, db *database.Database, n int) {
	t.Helper()
	// Appends from several goroutines at once still make one unbroken chain.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.Audit.Record(context.Background(), bridge.AuditEntry{
				At: auditT0.Add(time.Duration(i) * time.Minute), Actor: "@dr:hs", Action: bridge.AuditAdmit,
				SessionID: "abc234", Subject: fmt.Sprintf("participant:%d", i), Detail: map[string]string{"via": "panel"},
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The audit table takes inserts only: the database itself refuses to change or delete a row.
func TestAuditTrailIsAppendOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		appendAudit(t, db, 20)
		n, broken, err := db.Audit.Verify(ctx)
		if err != nil || broken != nil || n != 20 {
			t.Fatalf("verify after 20 concurrent appends: %d rows, break %v, err %v", n, broken, err)
		}
		for _, stmt := range []string{
			`UPDATE telehealth_audit SET actor='@mallory:hs' WHERE id=3`,
			`DELETE FROM telehealth_audit WHERE id=3`,
		} {
			if _, err := db.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want it refused as append-only", stmt, err)
			}
		}
		if db.Dialect == dbutil.Postgres {
			if _, err := db.Exec(ctx, `TRUNCATE telehealth_audit`); err == nil {
				t.Error("TRUNCATE emptied the audit trail")
			}
		}
		var out bytes.Buffer
		written, err := db.Audit.Export(ctx, auditT0.Add(5*time.Minute), auditT0.Add(10*time.Minute), &out)
		if err != nil || written != 5 {
			t.Fatalf("export of 5 minutes: %d rows, %v", written, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var row database.AuditRow
			if err = json.Unmarshal([]byte(line), &row); err != nil {
				t.Fatal(err)
			}
			if row.At.Before(auditT0.Add(5*time.Minute)) || !row.At.Before(auditT0.Add(10*time.Minute)) ||
				row.Action != "admit" || len(row.Hash) != 64 || string(row.Detail) != `{"via":"panel"}` {
				t.Errorf("exported row: %s", line)
			}
		}
	})
}

// BenchmarkAuditAppend is one append to the chain (lock, read the last hash, insert), on each
// database. Reported as µs/append.
func BenchmarkAuditAppend(b *testing.B) {
	for _, kind := range dbtest.Kinds {
		b.Run(kind, func(b *testing.B) {
			db := dbtest.Open(b, kind)
			ctx := context.Background()
			e := bridge.AuditEntry{At: auditT0, Actor: "@dr:hs", Action: bridge.AuditAdmit, SessionID: "abc234",
				Subject: "participant:1", Detail: map[string]string{"via": "panel", "number": "1"}}
			b.ResetTimer()
			for range b.N {
				if err := db.Audit.Record(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/append")
		})
	}
}
