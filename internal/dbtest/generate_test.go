package dbtest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/store"
)

// TestGenerate: the generator makes exactly the stale rows it promises, by
// the plain-Go reading of the staleness rule in docs/design.md, and writes the web app's time format.
func TestGenerate(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	dsn := NewMemory(t)
	raw := DB(t, dsn)
	if err := Generate(raw, Spec{Rows: 3000, Stale: 700, Recent: 50, Files: true, Now: now}); err != nil {
		t.Fatal(err)
	}
	rows, err := raw.Query(`SELECT status, created_at || '', closed_at || '', stl_file FROM ` + store.Table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cutoff := now.Add(-24 * time.Hour)
	var total, stale, recent int
	for rows.Next() {
		var status, created, file string
		var closed sql.NullString
		if err := rows.Scan(&status, &created, &closed, &file); err != nil {
			t.Fatal(err)
		}
		total++
		c, err := store.ParseTime(created)
		if err != nil || store.FormatTime(c) != created {
			t.Fatalf("created_at %q is not in the web app's format", created)
		}
		var cl time.Time
		if closed.Valid {
			if cl, err = store.ParseTime(closed.String); err != nil || store.FormatTime(cl) != closed.String {
				t.Fatalf("closed_at %q is not in the web app's format", closed.String)
			}
		}
		switch {
		case status == "identifying" && c.Before(cutoff), status == "rejected" && closed.Valid && cl.Before(cutoff):
			stale++
		case status == "identifying" || status == "rejected":
			recent++
		}
		if file == "" {
			t.Fatal("a row without a file")
		}
	}
	if total != 3000 || stale != 700 || recent != 50 {
		t.Fatalf("rows %d, stale %d, recent %d; want 3000, 700, 50", total, stale, recent)
	}
	n, err := Open(t, dsn, true).CountStale(context.Background(), cutoff)
	if err != nil || n != 700 {
		t.Fatalf("CountStale = %d, %v", n, err)
	}
}
