package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// openReference opens a private copy of the web app's reference database.
func openReference(t *testing.T, readOnly bool) *sqliteDB {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "reference", "webapp.sqlite3"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "db.sqlite3")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Open(context.Background(), path, Options{ReadOnly: readOnly, BusyTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d.(*sqliteDB)
}

// TestQueryPlans pins every statement the tool runs on SQLite to the index
// search it was written for: the status index, whose entries are (status,
// id), or the rowid. None may scan the table, but one: a run costs the
// same on 1k and 1M rows when nothing is stale, and there is no scan per
// batch. The queries are the constants the code runs, not copies.
//
// The one scan is Named, which asks which rows name the files that a
// chunk of removals is about to take: nothing indexes stl_file, the tool
// must not add an index to the web app's schema, and one scan answers for
// a whole chunk (up to 5000 files), outside the write lock, in short reads
// of a range of ids each. It runs only when files are to be removed: its
// cost follows the work.
func TestQueryPlans(t *testing.T) {
	d := openReference(t, true)
	r := d.reads
	const statusRange = "USING INDEX submissions_submission_status_86d9af3f (status=? AND rowid>? AND rowid<?)"
	type plan struct {
		q, want   string
		sorts     bool // a bounded sort of one index range is allowed
		indexScan bool // a walk of the index that stops at its first entry (LIMIT 1)
	}
	plans := map[string]plan{}
	for name, tc := range map[string]plan{
		"batch end":           {q: sqliteBatchEnd, want: "USING COVERING INDEX submissions_submission_status_86d9af3f (status=? AND rowid>?)"},
		"batch files":         {q: sqliteBatchFiles, want: statusRange, sorts: true},
		"dry-run page":        {q: r.stalePageQuery(), want: "USING INDEX submissions_submission_status_86d9af3f (status=? AND rowid>?)"},
		"count stale":         {q: r.countStaleQuery(), want: "USING INDEX submissions_submission_status_86d9af3f (status=?)"},
		"delete":              {q: sqliteDeleteAll, want: statusRange},
		"delete but":          {q: sqliteDeleteAllBut, want: statusRange},
		"stats: count status": {q: r.countStatusQuery(), want: "USING COVERING INDEX submissions_submission_status_86d9af3f (status=?)"},
		"stats: next status":  {q: r.nextStatusQuery(), want: "USING COVERING INDEX submissions_submission_status_86d9af3f (status>?)"},
		"stats: first status": {q: r.firstStatusQuery(), want: "USING COVERING INDEX submissions_submission_status_86d9af3f", indexScan: true},
		"named: first id":     {q: sqliteFirstID, want: ""}, // the rowid's first entry
		"named: next id":      {q: sqliteNextID, want: "USING INTEGER PRIMARY KEY (rowid>?)"},
	} {
		plans[name] = tc
	}
	named, _, err := sqliteNamed(protocol.NameQuery{Files: []string{"stl/a.stl"}, Prefixes: []string{"link/"}, Unclean: true})
	if err != nil {
		t.Fatal(err)
	}
	plans["named"] = plan{q: named}
	for _, rule := range staleRules {
		plans["stats: stale "+rule.Status] = plan{q: r.countStaleOfQuery(rule), want: "USING INDEX submissions_submission_status_86d9af3f (status=?)"}
		plans["stats: oldest "+rule.Status] = plan{q: r.oldestStaleQuery(rule), want: "USING INDEX submissions_submission_status_86d9af3f (status=?)", sorts: true}
	}
	for name, tc := range plans {
		rows, err := d.db.Query(`EXPLAIN QUERY PLAN `+tc.q, "2026-11-24 12:00:00", "[]", 100, 5)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		if name == "named" {
			if !strings.HasPrefix(all, "SEARCH "+Table+" USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)") || strings.Contains(all, "SCAN "+Table) {
				t.Errorf("%s: plan %q, want a walk of one range of ids", name, all)
			}
			continue
		}
		if tc.indexScan {
			if all != "SCAN "+Table+" "+tc.want {
				t.Errorf("%s: plan %q, want a walk of the index", name, all)
			}
			continue
		}
		if !strings.Contains(all, strings.TrimSpace("SEARCH "+Table+" "+tc.want)) && !strings.Contains(all, "SEARCH s "+tc.want) ||
			strings.Contains(all, "SCAN "+Table) || strings.Contains(all, "SCAN s") ||
			strings.Contains(all, "TEMP B-TREE FOR ORDER BY") && !tc.sorts ||
			strings.Contains(all, "MULTI-INDEX OR") {
			t.Errorf("%s: plan %q, want a search %s", name, all, tc.want)
		}
	}
}

// TestReadOnlyConnection: SQLite itself refuses writes on a read-only
// connection; it is not just the tool being careful.
func TestReadOnlyConnection(t *testing.T) {
	d := openReference(t, true)
	_, err := d.db.Exec(`DELETE FROM ` + Table)
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("DELETE on a read-only connection: %v", err)
	}
}
