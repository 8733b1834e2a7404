package dbtest_test

import (
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestGeneratePostgres: the generated PostgreSQL install holds exactly the
// rows of the generated SQLite one, every column and instant alike.
func TestGeneratePostgres(t *testing.T) {
	spec := dbtest.Spec{Rows: 3000, Stale: 1000, Recent: 100, Files: true, Now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	_, pg := dbtest.NewPostgres(t)
	if err := dbtest.GeneratePostgres(pg, spec); err != nil {
		t.Fatal(err)
	}
	dsn := dbtest.NewMemory(t)
	if err := dbtest.Generate(dbtest.DB(t, dsn), spec); err != nil {
		t.Fatal(err)
	}
	// Both as instants in the web app's SQLite text format.
	const pgRow = `id || '|' || status || '|' || email || '|' || stl_file || '|' ||
to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '|' ||
coalesce(to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), 'NULL')`
	const sqliteRow = `id || '|' || status || '|' || email || '|' || stl_file || '|' ||
substr(created_at || '.000000', 1, 26) || '|' || coalesce(substr(closed_at || '.000000', 1, 26), 'NULL')`
	got, want := dbtest.Rows(t, pg, pgRow), dbtest.Rows(t, dbtest.DB(t, dsn), sqliteRow)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for slug, row := range want {
		if got[slug] != row {
			t.Fatalf("row %s:\n got  %s\n want %s", slug, got[slug], row)
		}
	}
}
