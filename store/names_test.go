package store_test

import (
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// namedRows are rows whose files Named must find, or not, for
// TestNamed: exact spellings, unclean ones, ones below a prefix, and
// others.
var namedRows = []dbtest.Row{
	{Slug: "exact", File: "stl/2026/11/a.stl"},
	{Slug: "twice", File: "stl/2026/11/a.stl"},
	{Slug: "other", File: "stl/2026/11/b.stl"},
	{Slug: "double-slash", File: "stl//2026/11/c.stl"},
	{Slug: "dot", File: "stl/./2026/11/d.stl"},
	{Slug: "dotdot", File: "stl/2026/../2026/11/e.stl"},
	{Slug: "leading-dot", File: "./stl/2026/11/f.stl"},
	{Slug: "trailing-dot", File: "stl/2026/11/."},
	{Slug: "hidden", File: "stl/.hidden.stl"},
	{Slug: "linked", File: "archive/2025/g.stl"},
	{Slug: "linked-file", File: "stl/link.stl"},
	{Slug: "no-file", File: ""},
	{Slug: "similar", File: "stl/2026/11/a.stl.bak"},
}

// wantNamed is what Named answers for namedFiles and namedPrefixes: every
// row that names a.stl by its exact text, and every row below the
// prefixes, once per row. The rows that spell a file otherwise than
// Django does are not among them.
var (
	namedFiles    = []string{"stl/2026/11/a.stl", "stl/2026/11/none.stl"}
	namedPrefixes = []string{"archive/", "stl/link.stl"}
	wantNamed     = []string{"archive/2025/g.stl", "stl/2026/11/a.stl", "stl/2026/11/a.stl", "stl/link.stl"}
)

// TestNamed: one scan finds the rows that name the files asked about, on
// SQLite and on PostgreSQL alike.
func TestNamed(t *testing.T) {
	old := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rows := slices.Clone(namedRows)
	for i := range rows {
		rows[i].ID, rows[i].Status, rows[i].Created = int64(i+1), "pending", old
	}
	// Ids far apart, and below zero, which SQLite allows: Named reads a
	// range of ids at a time, and must cover them all.
	rows[0].ID, rows[1].ID, rows[3].ID = 45_001, -7, 20_001
	check := func(t *testing.T, d store.DB) {
		var got []string
		err := proto(d).Named(ctx, protocol.NameQuery{Files: namedFiles, Prefixes: namedPrefixes}, func(f string) error {
			got = append(got, f)
			return nil
		})
		slices.Sort(got)
		if err != nil || !slices.Equal(got, wantNamed) {
			t.Errorf("Named = %q, %v; want %q", got, err, wantNamed)
		}
		got = nil
		err = proto(d).Named(ctx, protocol.NameQuery{Files: []string{"stl/2026/11/b.stl"}}, func(f string) error {
			got = append(got, f)
			return nil
		})
		if err != nil || !slices.Equal(got, []string{"stl/2026/11/b.stl"}) {
			t.Errorf("Named without prefixes = %q, %v", got, err)
		}
		// Unclean asks for every row that spells its file otherwise than
		// Django does, too.
		got = nil
		err = proto(d).Named(ctx, protocol.NameQuery{Files: []string{"stl/2026/11/b.stl"}, Unclean: true}, func(f string) error {
			got = append(got, f)
			return nil
		})
		slices.Sort(got)
		want := []string{"./stl/2026/11/f.stl", "stl/./2026/11/d.stl", "stl/.hidden.stl", "stl//2026/11/c.stl",
			"stl/2026/../2026/11/e.stl", "stl/2026/11/.", "stl/2026/11/b.stl"}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Named with Unclean = %q, %v; want %q", got, err, want)
		}
	}
	t.Run("SQLite", func(t *testing.T) {
		dsn := dbtest.NewMemory(t)
		dbtest.Insert(t, dbtest.DB(t, dsn), rows...)
		check(t, dbtest.Open(t, dsn, true))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		u, raw := dbtest.NewPostgres(t)
		insertRows(t, raw, rows)
		check(t, dbtest.OpenPostgres(t, u, true))
	})
}

func insertRows(t *testing.T, raw *sql.DB, rows []dbtest.Row) {
	t.Helper()
	dbtest.InsertPostgres(t, raw, rows...)
}
