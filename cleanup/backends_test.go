package cleanup_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/internal/s3test"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// The behaviour contract holds on every backend: the tests in
// contract_test.go run over each pair below. A database is SQLite (in
// memory) or PostgreSQL (a real server, see .ci/pg); a media store is in
// memory, a real directory behind os.Root, or a real S3 server (see
// .ci/s3). The PostgreSQL and S3 pairs skip with a message where their
// server is absent, and fail instead under CI=true.

// testDB is a web app database for one test.
type testDB struct {
	open   func(readOnly bool) store.DB
	raw    *sql.DB                  // for the test's own SQL
	insert func(rows ...dbtest.Row) // rows in the web app's format
	// allColumns renders a row's every column, for dbtest.Rows.
	allColumns string
}

// testMedia is a media store for one test.
type testMedia struct {
	fs    afero.Fs              // what the tool gets
	write func(names ...string) // creates files
	files func() []string       // every file, sorted
	// writes counts the requests that may have changed something, where
	// the store can tell (S3, through a recording proxy).
	writes func() int
}

type dbBackend struct {
	name string
	// empty returns a database with the web app's schema and no rows;
	// reference one with the rows of testdata/reference/webapp.sqlite3.
	empty, reference func(t *testing.T) testDB
}

type mediaBackend struct {
	name string
	new  func(t *testing.T) testMedia
}

var dbBackends = []dbBackend{
	{"sqlite",
		func(t *testing.T) testDB { return sqliteDB(t, dbtest.NewMemory(t)) },
		func(t *testing.T) testDB {
			return sqliteDB(t, dbtest.LoadMemory(t, dbtest.Testdata(t, "reference", "webapp.sqlite3")))
		}},
	{"postgres",
		func(t *testing.T) testDB { u, raw := dbtest.NewPostgres(t); return postgresDB(t, u, raw) },
		func(t *testing.T) testDB {
			u, raw := dbtest.LoadPostgres(t, dbtest.Testdata(t, "reference", "webapp.sqlite3"))
			return postgresDB(t, u, raw)
		}},
}

var mediaBackends = []mediaBackend{
	{"memory", func(t *testing.T) testMedia {
		mem := afero.NewMemMapFs()
		return testMedia{fs: mem, write: func(n ...string) { fstest.Write(t, mem, n...) }, files: func() []string { return fstest.Files(t, mem) },
			writes: func() int { return 0 }}
	}},
	{"disk", diskMedia},
	{"s3", s3Media},
}

func sqliteDB(t *testing.T, dsn string) testDB {
	raw := dbtest.DB(t, dsn)
	return testDB{
		open:       func(ro bool) store.DB { return dbtest.Open(t, dsn, ro) },
		raw:        raw,
		insert:     func(rows ...dbtest.Row) { dbtest.Insert(t, raw, rows...) },
		allColumns: dbtest.AllColumns,
	}
}

func postgresDB(t *testing.T, u string, raw *sql.DB) testDB {
	return testDB{
		open:       func(ro bool) store.DB { return dbtest.OpenPostgres(t, u, ro) },
		raw:        raw,
		insert:     func(rows ...dbtest.Row) { dbtest.InsertPostgres(t, raw, rows...) },
		allColumns: dbtest.PostgresAllColumns,
	}
}

// diskMedia is a media directory on a real disk, behind os.Root.
func diskMedia(t *testing.T) testMedia {
	dir := filepath.Join(t.TempDir(), "media")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := fs.NewRootFs(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	plain := afero.NewBasePathFs(afero.NewOsFs(), dir)
	return testMedia{fs: root, write: func(n ...string) { fstest.Write(t, plain, n...) }, files: func() []string { return fstest.Files(t, plain) },
		writes: func() int { return 0 }}
}

// s3Media is a prefix of a bucket on a real S3 server (see .ci/s3), seen
// through a proxy that records every request. Canary objects outside the
// prefix must survive every test.
func s3Media(t *testing.T) testMedia {
	s := s3test.NewS3(t)
	canaries := []string{"outside.stl", "site2/stl/2026/11/s7-0000001.stl", "site1.stl"}
	s.WriteKeys(t, canaries...)
	t.Cleanup(func() {
		keys := s.Keys(t)
		for _, c := range canaries {
			if !slices.Contains(keys, c) {
				t.Errorf("the object %s, outside the prefix, is gone", c)
			}
		}
	})
	rec := s.Record(t)
	s3, err := fs.NewS3Fs(context.Background(), s.Root, rec.Env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s3.Close() })
	return testMedia{fs: s3, write: func(n ...string) { s.WriteDirect(t, n...) }, files: func() []string { return s.Files(t) },
		writes: func() int { return len(rec.Writes()) }}
}

// everyBackend runs test on every pair of a database and a media store.
func everyBackend(t *testing.T, test func(t *testing.T, db dbBackend, media mediaBackend)) {
	for _, db := range dbBackends {
		for _, media := range mediaBackends {
			t.Run(db.name+"+"+media.name, func(t *testing.T) { test(t, db, media) })
		}
	}
}

// slugs returns every slug in db, sorted.
func (db testDB) slugs(t *testing.T) []string {
	t.Helper()
	var out []string
	for slug := range dbtest.Rows(t, db.raw, "slug") {
		out = append(out, slug)
	}
	return sorted(out)
}
