package store_test

import (
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// TestNamedOnTwoConnections: on SQLite, a table of more than one page of
// ids is read on two connections, every other page each, and the rows
// found are those of one connection's scan; a second connection that
// would read another file than the run's (the database replaced by a
// copy since the run opened it) is not used, and the run's own reads
// every page.
func TestNamedOnTwoConnections(t *testing.T) {
	old := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// Five pages of ids (20000 each), a row that names a.stl on each.
	var rows []dbtest.Row
	for i, id := range []int64{1, 20_001, 40_001, 60_001, 80_001, 80_002} {
		file := "stl/a.stl"
		if i == 5 {
			file = "stl/b.stl"
		}
		rows = append(rows, dbtest.Row{ID: id, Slug: "s" + string(rune('a'+i)), Status: "pending", Created: old, File: file})
	}
	want := []string{"stl/a.stl", "stl/a.stl", "stl/a.stl", "stl/a.stl", "stl/a.stl"}
	named := func(t *testing.T, d store.DB) []string {
		t.Helper()
		var got []string
		err := proto(d).Named(ctx, protocol.NameQuery{Files: []string{"stl/a.stl", "stl/none.stl"}}, func(f string) error {
			got = append(got, f)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	file := func(t *testing.T, name string, rows ...dbtest.Row) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), name)
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(storetest.Schema()); err != nil {
			t.Fatal(err)
		}
		dbtest.Insert(t, db, rows...)
		return path
	}
	t.Run("both", func(t *testing.T) {
		d, err := store.Open(ctx, file(t, "db.sqlite3", rows...), store.Options{ReadOnly: true, BusyTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if got := named(t, d); !slices.Equal(got, want) {
			t.Errorf("Named = %q; want %q", got, want)
		}
		if got := store.NamedPages(d); got != [2]int64{3, 2} {
			t.Errorf("pages read by the run's connection and the scan's = %v; want [3 2]", got)
		}
	})
	t.Run("ids far apart", func(t *testing.T) {
		// SQLite allows any 64-bit id: the rows at both ends are read, and
		// each page begins at a row, so that the empty ranges between
		// cost nothing (reading them 20000 ids at a time would take
		// longer than the age of the install).
		var far []dbtest.Row
		for i, id := range []int64{math.MinInt64, -7, 1, 45_001, 45_002, math.MaxInt64} {
			far = append(far, dbtest.Row{ID: id, Slug: "f" + string(rune('a'+i)), Status: "pending", Created: old, File: "stl/a.stl"})
		}
		d, err := store.Open(ctx, file(t, "db.sqlite3", far...), store.Options{ReadOnly: true, BusyTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if got, want := named(t, d), slices.Repeat([]string{"stl/a.stl"}, 6); !slices.Equal(got, want) {
			t.Errorf("Named = %q; want %q", got, want)
		}
		// Four pages: the bottom, -7 and 1, 45001 and 45002, the top.
		if got := store.NamedPages(d); got != [2]int64{2, 2} {
			t.Errorf("pages read by the run's connection and the scan's = %v; want [2 2]", got)
		}
	})
	t.Run("replaced", func(t *testing.T) {
		path := file(t, "db.sqlite3", rows...)
		d, err := store.Open(ctx, path, store.Options{ReadOnly: true, BusyTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		// A copy whose rows name nothing asked about takes the path: the
		// run's connection still reads the file it opened.
		if err := os.Rename(file(t, "other.sqlite3"), path); err != nil {
			t.Fatal(err)
		}
		if got := named(t, d); !slices.Equal(got, want) {
			t.Errorf("Named = %q; want %q", got, want)
		}
		if got := store.NamedPages(d); got != [2]int64{5, 0} {
			t.Errorf("pages read by the run's connection and the scan's = %v; want [5 0]", got)
		}
	})
}
