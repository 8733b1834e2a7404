package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
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
func TestPostgresQueryPlans(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: planning needs 50k rows; the suite without -short runs it")
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cutoff := now.Add(-24 * time.Hour)
	const statusIndex, pkey = "submissions_submission_status_86d9af3f", "submissions_submission_pkey"
	for _, tc := range []struct {
		name  string
		stale int
		index map[string]string // query -> the index its plan must use, if any
	}{
		{"few stale", 20, map[string]string{
			"batch end": statusIndex, "batch files": statusIndex, "delete files": statusIndex,
			"delete fileless": statusIndex, "dry-run page": statusIndex, "count stale": statusIndex,
			"other files": pkey, "file page": pkey,
		}},
		{"catch-up", 20000, map[string]string{"other files": pkey, "file page": pkey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := storetest.NewMemory(t)
			spec := storetest.Spec{Rows: 50000, Stale: tc.stale, Recent: 10, Files: true, Now: now}
			if err := storetest.Generate(storetest.DB(t, dsn), spec); err != nil {
				t.Fatal(err)
			}
			u, raw := storetest.NewPostgres(t)
			storetest.CopyToPostgres(t, raw, storetest.DB(t, dsn))
			exec(t, raw, `VACUUM ANALYZE `+store.Table)
			d := storetest.OpenPostgres(t, u, false)
			for name, q := range store.PostgresQueries(d) {
				var args [][]any
				switch name {
				case "batch end":
					args = [][]any{{"identifying", 0, 999}, {"rejected", 20000, 99}}
				case "batch files":
					args = [][]any{{cutoff, 0, 10000, 5000}}
				case "delete files":
					args = [][]any{{cutoff, 0, 10000, []int64{3, 5}}}
				case "delete fileless":
					args = [][]any{{cutoff, 0, 10000}}
				case "other files":
					args = [][]any{{49000, []int64{1, 200, 3000}}}
				case "dry-run page":
					args = [][]any{{cutoff, "identifying", 0, 1000}}
				case "count stale":
					args = [][]any{{cutoff}}
				case "file page":
					args = [][]any{{10000, 5000}}
				}
				for _, a := range args {
					plan := explain(t, d, q, a...)
					if idx := tc.index[name]; strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, idx) {
						t.Errorf("%s %v: want a search through %q, no Seq Scan:\n%s", name, a, idx, plan)
					}
				}
			}
		})
	}
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
