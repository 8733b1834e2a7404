package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openReference opens a private copy of the web app's reference database.
func openReference(t *testing.T, readOnly bool) *DB {
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
	return d
}

// TestQueryPlans pins every statement the tool runs to the index search it
// was written for: the status index, whose entries are (status, id), or
// the rowid. None may scan the table (SPEC §5: a run costs the same on 1k and 1M
// rows when nothing is stale, and there is no scan per batch).
func TestQueryPlans(t *testing.T) {
	d := openReference(t, true)
	const statusIndex = "USING INDEX submissions_submission_status_86d9af3f (status=? AND rowid>?"
	const statusCovering = "USING COVERING INDEX submissions_submission_status_86d9af3f (status=? AND rowid>?)"
	const rowid = "USING INTEGER PRIMARY KEY (rowid"
	for name, tc := range map[string]struct{ q, want string }{
		"batch end":       {`SELECT id FROM ` + Table + ` WHERE status = ?1 AND id > ?2 ORDER BY id LIMIT 1 OFFSET ?3`, statusCovering},
		"fileless delete": {`DELETE FROM ` + Table + ` WHERE stl_file = '' AND ` + inRange, statusIndex + " AND rowid<?)"},
		"with files":      {`SELECT id, slug, status, stl_file FROM ` + Table + ` WHERE stl_file <> '' AND ` + inRange, statusIndex + " AND rowid<?)"},
		"delete by id":    {`DELETE FROM ` + Table + ` NOT INDEXED WHERE id IN (SELECT value FROM json_each(?2)) AND ` + stalePredicate, rowid + "=?)"},
		"files of":        {filesOfQuery, rowid + ">?)"},
		"dry-run page":    {staleQuery, statusIndex + ")"},
		"count stale":     {`SELECT count(*) FROM ` + Table + ` WHERE status IN ('identifying', 'rejected') AND ` + stalePredicate, "USING INDEX submissions_submission_status_86d9af3f (status=?)"},
		"file page":       {`SELECT id, stl_file FROM ` + Table + ` WHERE id > ?1 AND stl_file <> '' ORDER BY id LIMIT ?2`, rowid + ">?)"},
	} {
		q := tc.q
		rows, err := d.db.Query(`EXPLAIN QUERY PLAN `+q, "2026-11-24 12:00:00", 0, 100, "[]")
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
		if !strings.Contains(all, "SEARCH "+Table+" "+tc.want) || strings.Contains(all, "SCAN "+Table) ||
			strings.Contains(all, "TEMP B-TREE FOR ORDER BY") || strings.Contains(all, "MULTI-INDEX OR") && name != "files of" {
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
