// Package store is the tool's only door into the web app's database:
// SQLite, or PostgreSQL once an install outgrows one host.
//
// It speaks SQL and nothing else. It opens an existing database without
// ever creating one, checks that the schema is the one the tool
// understands, finds stale submissions, and deletes them in short write
// transactions that it owns from begin to commit. It never changes a
// persistent setting (journal mode, page size, ...) and never creates
// tables, indexes or triggers in the web app's database.
//
// Both databases sit behind one face, DB: nothing outside this package
// knows which one it has. Open takes a path or a postgres:// URL, OpenDSN a
// modernc.org/sqlite DSN (an in-memory database from storetest.NewMemoryDB,
// say); package cleanup then deletes through the DB.
package store

import (
	"context"
	"strings"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// Table is the web app's submissions table, as Django names it.
const Table = "submissions_submission"

// DB is an open web app database, as Open and OpenDSN return it, and
// only they: it cannot be implemented outside this package. Package
// cleanup deletes through it; the methods it uses for that are not part
// of this face.
type DB interface {
	// Name says which database this is, for messages and for naming the
	// pending-removal journal. It never contains a password.
	Name() string
	// Local reports whether the database is a file on this host (SQLite),
	// whose directory is where its journal belongs.
	Local() bool
	// Identity names the database itself, whatever spelling reached it:
	// the device and inode of a SQLite file (two paths to one file, a
	// symlink, say, have one identity); the cluster's system identifier
	// and the database's oid on PostgreSQL (two URLs of one database
	// have one). The pending-removal journal is named after it, so that
	// one database has one journal and one lock.
	Identity() string
	// Close closes the database.
	Close() error

	// CountStale returns how many rows are stale at cutoff.
	CountStale(ctx context.Context, cutoff time.Time) (int64, error)
	// EachStale calls fn for every row that is stale at cutoff, in id
	// order, in short reads, without holding a lock while fn runs.
	EachStale(ctx context.Context, cutoff time.Time, fn func(Submission) error) error
	// Stats counts the rows per status and the stale ones.
	Stats(ctx context.Context, cutoff time.Time) (*Stats, error)

	// sealed keeps DB to the databases that Open and OpenDSN return: they
	// also take part in package cleanup's batch protocol, which no other
	// type can (it is internal), so the compiler, not a run, refuses a DB
	// made elsewhere.
	sealed()
}

// Options says how to open the database.
type Options struct {
	// ReadOnly opens the database so that nothing on the connection can
	// write, whatever the code above it does. Dry runs, stats and sweep
	// listings use it.
	ReadOnly bool

	// BusyTimeout is how long a statement waits for another connection's
	// lock before it fails: SQLite's busy timeout, PostgreSQL's
	// lock_timeout.
	BusyTimeout time.Duration
}

// Open opens the web app's database: a postgres:// or postgresql:// URL,
// or else the path of an existing SQLite file.
//
// A connection string that the tool does not take (a URL it cannot read
// in one way only, a keyword/value string) is ErrInvalidURL. A missing
// file is ErrNoDatabase and nothing is created; a file this user may not
// read (or, unless read-only, write) is ErrAccess; a file that is not
// SQLite is ErrNotDatabase; a schema without the table or columns the
// tool uses is ErrSchema.
func Open(ctx context.Context, name string, opt Options) (DB, error) {
	if IsPostgres(name) {
		return openPostgres(ctx, name, opt)
	}
	if err := notAPath(name); err != nil {
		return nil, err
	}
	return openSQLiteFile(ctx, name, opt)
}

// DisplayName is name as messages may show it: a PostgreSQL URL without
// its password; a path as it is; no other connection string at all.
func DisplayName(name string) string {
	switch {
	case IsPostgres(name):
		return redactURL(name)
	case notAPath(name) != nil:
		return "(a connection string)"
	}
	return name
}

// IsPostgres reports whether name is a PostgreSQL URL rather than a path.
func IsPostgres(name string) bool {
	return strings.HasPrefix(name, "postgres://") || strings.HasPrefix(name, "postgresql://")
}

// Submission is one row of Table, as much of it as the tool needs: ID,
// Slug, Status, and File (stl_file, the upload's path relative to
// MEDIA_ROOT; "" for none).
type Submission = protocol.Submission

// The databases that Open returns take part in cleanup's protocol.
var (
	_ protocol.DB = (*sqliteDB)(nil)
	_ protocol.DB = (*pgDB)(nil)
)
