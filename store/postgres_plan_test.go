package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// TestPostgresQueryPlans pins the statements the tool runs on PostgreSQL
// to index searches, on a table with enough rows for the planner to
// care, analyzed. None may scan the table. When few rows are stale (the
// everyday run), the searches by status go through the status index
// (Django creates two, plain and _like; either will do), so that a run
// that finds nothing costs the same on 1k and 1M rows. The reads of files
// by id go through the primary key. The queries are the constants the
// code runs, planned on the tool's own session, for the values given,
// as every statement of that session is (plan_cache_mode).
//
// A batch reads the table in physical order (see pgLockBatch): through
// the status index's bitmap, or, when many rows are stale, the pages
// after the last batch's (a TID range scan), never through an index scan,
// which would return the rows in another order, nor a sort. Its rows go
// by their addresses (TID scans).
func TestPostgresQueryPlans(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: planning needs 50k rows; the suite without -short runs it")
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cutoff := now.Add(-24 * time.Hour)
	const statusIndex = "submissions_submission_status_86d9af3f"
	for _, tc := range []struct {
		name  string
		stale int
		index map[string]string // query -> the index its plan must use, if any
	}{
		{"few stale", 20, map[string]string{
			"lock batch": statusIndex, "dry-run page": statusIndex, "count stale": statusIndex, "delete at": "Tid Scan",
		}},
		{"catch-up", 20000, map[string]string{"delete at": "Tid Scan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := dbtest.NewMemory(t)
			spec := dbtest.Spec{Rows: 50000, Stale: tc.stale, Recent: 10, Files: true, Now: now}
			if err := dbtest.Generate(dbtest.DB(t, dsn), spec); err != nil {
				t.Fatal(err)
			}
			u, raw := dbtest.NewPostgres(t)
			dbtest.CopyToPostgres(t, raw, dbtest.DB(t, dsn))
			exec(t, raw, `VACUUM ANALYZE `+store.Table)
			d := dbtest.OpenPostgres(t, u, false)
			for name, q := range store.PostgresQueries(d) {
				var args [][]any
				switch name {
				case "lock batch":
					args = [][]any{{cutoff, tid(0, 0), 2000, 5000}, {cutoff, tid(200, 7), 20000, 5000}, {cutoff, tid(400, 0), 100, 5000}}
				case "delete at":
					args = [][]any{{[]pgtype.TID{tid(3, 5), tid(7, 1)}}}
				case "dry-run page":
					args = [][]any{{cutoff, "identifying", 0, 1000}}
				case "count stale":
					args = [][]any{{cutoff}}
				}
				for _, a := range args {
					plan := explain(t, d, q, a...)
					if idx := tc.index[name]; strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, idx) {
						t.Errorf("%s %v: want a search through %q, no Seq Scan:\n%s", name, a, idx, plan)
					}
					physical := strings.Contains(plan, "Tid Range Scan") || strings.Contains(plan, "Bitmap Heap Scan on "+store.Table+" ")
					if name == "lock batch" && (!physical || strings.Contains(plan, "Index Scan using") || strings.Contains(plan, "Sort")) {
						t.Errorf("%s %v: want the table in physical order, no index scan, no sort:\n%s", name, a, plan)
					}
				}
			}
		})
	}
}

// tid is the row address (block, line).
func tid(block uint32, line uint16) pgtype.TID {
	return pgtype.TID{BlockNumber: block, OffsetNumber: line, Valid: true}
}

// explain returns the plan of q for args on d's own session.
func explain(t *testing.T, d store.DB, q string, args ...any) string {
	t.Helper()
	rows, err := store.PostgresRaw(d).Query(`EXPLAIN `+q, args...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", q, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
