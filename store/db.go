// Package store is the tool's only door into the web app's SQLite database.
//
// It speaks SQL and nothing else: it opens an existing database without ever
// creating one, checks that the schema is the one the tool understands, finds
// stale submissions and deletes them inside short write transactions. It
// never changes a persistent setting (journal mode, page size, ...) and never
// creates tables, indexes or triggers in the web app's database.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the cgo-free "sqlite" driver
)

// Table is the web app's submissions table, as Django names it.
const Table = "submissions_submission"

// Options says how to open the database.
type Options struct {
	// ReadOnly opens the database with SQLite's mode=ro, so that nothing on
	// the connection can write, whatever the code above it does. Dry runs,
	// stats and sweep listings use it.
	ReadOnly bool

	// BusyTimeout is how long a statement waits for another connection's
	// lock before it fails with "database is locked".
	BusyTimeout time.Duration
}

// DB is an open web app database.
type DB struct {
	db       *sql.DB
	readOnly bool
}

// Open opens the existing database file at path. A missing path is
// ErrNoDatabase and no file is created; a file this user may not read (or,
// unless read-only, write) is ErrAccess; a file that is not SQLite is
// ErrNotDatabase; a schema without the table or columns the tool uses is
// ErrSchema.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%w: %s", ErrNoDatabase, path)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrNoDatabase, err)
	case fi.IsDir():
		return nil, fmt.Errorf("%w: %s is a directory", ErrNoDatabase, path)
	}
	if err := checkAccess(path, opt.ReadOnly); err != nil {
		return nil, err
	}
	d, err := OpenDSN(ctx, fileURI(path, opt.ReadOnly), opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// OpenDSN opens a database named by a modernc.org/sqlite DSN, for example an
// in-memory database shared by name ("file:/name?vfs=memdb") in tests. The
// connection settings of opt are added to dsn. The schema is checked as in
// Open.
func OpenDSN(ctx context.Context, dsn string, opt Options) (*DB, error) {
	db, err := sql.Open("sqlite", withSettings(dsn, opt))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// One connection: every statement of a run sees the same connection, so
	// the per-connection pragmas hold and a run never competes with itself
	// for SQLite's locks.
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	d := &DB{db: db, readOnly: opt.ReadOnly}
	if err := d.checkSchema(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// fileURI turns a path into a SQLite URI. mode=rw (or ro) makes SQLite refuse
// to create a missing file, which closes the race between the Stat in Open
// and the open itself.
func fileURI(path string, readOnly bool) string {
	mode := "rw"
	if readOnly {
		mode = "ro"
	}
	// In a URI, '%', '?' and '#' in the path would be read as escapes, the
	// query and the fragment; escape exactly those.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?mode=" + mode
}

// withSettings adds the per-connection settings to dsn. They go in the DSN,
// not in a one-off Exec, because the driver applies DSN settings to every
// connection it opens.
func withSettings(dsn string, opt Options) string {
	q := url.Values{}
	q.Set("_pragma", fmt.Sprintf("busy_timeout(%d)", opt.BusyTimeout.Milliseconds()))
	if !opt.ReadOnly {
		// Every write transaction starts with BEGIN IMMEDIATE: it takes the
		// write lock before it reads, so staleness is decided under the same
		// lock that deletes the row (SPEC §4.1).
		q.Set("_txlock", "immediate")
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + q.Encode()
}
