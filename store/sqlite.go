package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the cgo-free "sqlite" driver
)

// sqliteDB is the web app's SQLite database.
type sqliteDB struct {
	reads
	name     string
	id       string
	readOnly bool
	ahead    *aheadRead // what ReadAhead read, for the next DeleteBatch

	// What Named's second connection opens (see scanConn): the database
	// file at path ("" for a DSN: no second connection), if it is still
	// the file opened, with the busy timeout.
	path        string
	busyTimeout time.Duration
	scanOnce    sync.Once
	scan        *sql.DB         // nil until opened, or if it could not be
	pagesRead   [2]atomic.Int64 // Named's pages, by connection, for the tests
}

// openSQLiteFile opens the existing SQLite file at path (see Open).
//
// The path is cleaned first, so that the file checked here is the file
// SQLite opens: in a URI, a path that begins with "//" would name an
// authority ("//localhost/x" opens "/x").
func openSQLiteFile(ctx context.Context, path string, opt Options) (DB, error) {
	path = filepath.Clean(path)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%w: %s", ErrNoDatabase, path)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrNoDatabase, err)
	case fi.IsDir():
		return nil, fmt.Errorf("%w: %s is a directory", ErrNoDatabase, path)
	case !fi.Mode().IsRegular():
		// A FIFO would block SQLite's first read forever, past any signal.
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrNoDatabase, path)
	}
	if err := checkAccess(path, opt.ReadOnly); err != nil {
		return nil, err
	}
	d, err := openSQLite(ctx, fileURI(path, opt.ReadOnly), path, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d.id, d.path = fileIdentity(fi, path), path
	return d, nil
}

// OpenDSN opens a SQLite database named by a modernc.org/sqlite DSN, for
// example an in-memory database shared by name ("file:/name?vfs=memdb",
// see storetest.NewMemoryDB) in tests. The connection settings of opt are
// added to dsn, read-only included (mode=ro, unless dsn sets a mode). The
// schema is checked as in Open.
func OpenDSN(ctx context.Context, dsn string, opt Options) (DB, error) {
	d, err := openSQLite(ctx, dsn, dsn, opt)
	if err != nil {
		return nil, err
	}
	d.id = "sqlite-dsn:" + dsn
	return d, nil
}

func openSQLite(ctx context.Context, dsn, name string, opt Options) (*sqliteDB, error) {
	db, err := sql.Open("sqlite", withSettings(dsn, opt))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// One connection: every statement of a run sees the same connection, so
	// the per-connection pragmas hold and a run never competes with itself
	// for SQLite's locks. (Named's scans of the table also read on a
	// second, read-only connection, outside any write transaction: see
	// scanConn.)
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	d := &sqliteDB{reads: reads{db: db, dialect: sqliteDialect}, name: name, readOnly: opt.ReadOnly,
		busyTimeout: opt.BusyTimeout}
	if err := connect(ctx, db); err != nil {
		db.Close()
		return nil, classify("open", err)
	}
	if err := checkSchema(ctx, db, `SELECT name, type FROM pragma_table_info(?)`, sqliteTypes); err != nil {
		db.Close()
		return nil, err
	}
	if err := checkIsTable(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// checkIsTable fails with ErrSchema when Table is a view: the tool deletes
// rows of the web app's own table.
func checkIsTable(ctx context.Context, db *sql.DB) error {
	var kind string
	err := db.QueryRowContext(ctx, `SELECT type FROM sqlite_schema WHERE name = ?1 COLLATE NOCASE AND type IN ('table', 'view')`, Table).Scan(&kind)
	if err != nil {
		return classify("read schema", err)
	}
	if kind != "table" {
		return fmt.Errorf("%w: %s is a %s, not a table: the tool deletes rows of the web app's own table", ErrSchema, Table, kind)
	}
	return nil
}

// connect opens db's connection. The driver applies the DSN's settings
// as it connects, without the caller's ctx, and synchronous reads the
// schema, which waits for a lock that the web app holds for up to the busy
// timeout: so the connection is opened aside, and a ctx that ends (a
// signal) returns at once.
func connect(ctx context.Context, db *sql.DB) error {
	done := make(chan error, 1)
	go func() { done <- db.PingContext(context.WithoutCancel(ctx)) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Name is the database's path (or DSN, in tests).
func (d *sqliteDB) Name() string { return d.name }

// Local is true: a SQLite database is a file on this host.
func (d *sqliteDB) Local() bool { return true }

func (d *sqliteDB) sealed() {}

// Identity is the database file's device and inode (see DB).
func (d *sqliteDB) Identity() string { return d.id }

// Close closes the database.
func (d *sqliteDB) Close() error {
	if d.scan != nil {
		d.scan.Close()
	}
	return d.db.Close()
}

// LocksWholeDatabase is true: SQLite has one write lock for the whole
// database.
func (d *sqliteDB) LocksWholeDatabase() bool { return true }

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
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opt.BusyTimeout.Milliseconds()))
	if !opt.ReadOnly {
		// A commit is on disk before it returns, whatever the build's
		// default or the DSN asks: a run removes a file once its row's
		// deletion has committed, and a power cut must not bring the row
		// back without its file. synchronous is a setting of the
		// connection, never stored in the database. The driver applies
		// the _synchronous key after every _pragma; the DSN's own
		// _synchronous, or its alias _sync, would win over ours: they go.
		dsn = withoutParams(dsn, "_sync", "_synchronous")
		q.Set("_synchronous", "FULL")
		// Every write transaction starts with BEGIN IMMEDIATE: it takes the
		// write lock before it reads, so staleness is decided under the same
		// lock that deletes the row.
		q.Set("_txlock", "immediate")
	}
	if opt.ReadOnly && !strings.Contains(dsn, "mode=") {
		q.Set("mode", "ro") // SQLite itself then refuses every write
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + q.Encode()
}

// withoutParams removes the parameters keys from dsn's query.
func withoutParams(dsn string, keys ...string) string {
	base, query, ok := strings.Cut(dsn, "?")
	if !ok {
		return dsn
	}
	var kept []string
	for _, kv := range strings.Split(query, "&") {
		if k, _, _ := strings.Cut(kv, "="); !slices.Contains(keys, k) {
			kept = append(kept, kv)
		}
	}
	if len(kept) == 0 {
		return base
	}
	return base + "?" + strings.Join(kept, "&")
}
