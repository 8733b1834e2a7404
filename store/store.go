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
// knows which one it has.
package store

import (
	"context"
	"strings"
	"time"
)

// Table is the web app's submissions table, as Django names it.
const Table = "submissions_submission"

// DB is an open web app database.
type DB interface {
	// Name says which database this is, for messages and for naming the
	// pending-removal journal. It never contains a password.
	Name() string
	// Local reports whether the database is a file on this host (SQLite),
	// whose directory is where its journal belongs.
	Local() bool
	// Close closes the database.
	Close() error
	// LocksWholeDatabase reports whether a write transaction holds off
	// every writer of the web app while it runs (SQLite), rather than
	// the writers of the rows it locks (PostgreSQL). A run then leaves the
	// database free between two transactions.
	LocksWholeDatabase() bool

	// CountStale returns how many rows are stale at cutoff.
	CountStale(ctx context.Context, cutoff time.Time) (int64, error)
	// EachStale calls fn for every row that is stale at cutoff, in id
	// order, in short reads, without holding a lock while fn runs.
	EachStale(ctx context.Context, cutoff time.Time, fn func(Submission) error) error
	// Stats counts the rows per status and the stale ones.
	Stats(ctx context.Context, cutoff time.Time) (*Stats, error)
	// EachFile calls fn for every row above id after that has a file, in id
	// order, in short reads, and returns the highest id it saw (or after).
	EachFile(ctx context.Context, after int64, fn func(id int64, file string) error) (maxID int64, err error)

	// NextBatch reads, without the write lock, the next batch of stale rows
	// after id after: at most n rows of each stale status, and at most
	// maxFiles of them with a file.
	NextBatch(ctx context.Context, cutoff time.Time, after int64, n, maxFiles int) (Batch, error)
	// DeleteBatch deletes the rows of b that are still stale, in one write
	// transaction that it begins and commits: every row without a file in
	// b's id range, and each row of b.Files whose file is still the one
	// read. In the same transaction it reads the files of the rows that
	// others names, so that the caller can keep a file that a remaining
	// row still uses. ctx can end the wait for the lock, but not a
	// transaction once begun: that one runs to its commit.
	//
	// On error, nothing of b was deleted, unless the error wraps
	// ErrCommitUnknown.
	DeleteBatch(ctx context.Context, cutoff time.Time, b Batch, others Others) (Deleted, error)
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
// A missing file is ErrNoDatabase and nothing is created; a file this user
// may not read (or, unless read-only, write) is ErrAccess; a file that is
// not SQLite is ErrNotDatabase; a schema without the table or columns the
// tool uses is ErrSchema.
func Open(ctx context.Context, name string, opt Options) (DB, error) {
	if IsPostgres(name) {
		return openPostgres(ctx, name, opt)
	}
	return openSQLiteFile(ctx, name, opt)
}

// DisplayName is name as messages may show it: a PostgreSQL URL without
// its password; a path as it is.
func DisplayName(name string) string {
	if IsPostgres(name) {
		return redactURL(name)
	}
	return name
}

// IsPostgres reports whether name is a PostgreSQL URL rather than a path.
func IsPostgres(name string) bool {
	return strings.HasPrefix(name, "postgres://") || strings.HasPrefix(name, "postgresql://")
}

// Submission is one row of Table, as much of it as the tool needs.
type Submission struct {
	ID     int64
	Slug   string
	Status string
	// File is stl_file: the upload's path relative to MEDIA_ROOT, as the web
	// app stored it; "" means the row has no file.
	File string
}

// Batch is one slice of the stale rows: the ids (After, End].
type Batch struct {
	After, End int64
	// Files are the stale rows in the range that have a file, as read
	// before the write transaction, in id order. DeleteBatch deletes only
	// these of the rows with a file, and only while their file is the one
	// read here: the caller has written these files into its journal. The
	// caller may leave rows out; those stay.
	Files []Submission

	read    []int64 // the ids of Files as read
	version int64   // SQLite's data_version when the read began
}

// keptIDs returns the ids that were read into Files and left out of it
// since.
func (b Batch) keptIDs() []int64 {
	if len(b.read) == len(b.Files) {
		return nil
	}
	in := make(map[int64]bool, len(b.Files))
	for _, s := range b.Files {
		in[s.ID] = true
	}
	var out []int64
	for _, id := range b.read {
		if !in[id] {
			out = append(out, id)
		}
	}
	return out
}

// NoEnd is the end of a batch that reaches past the last row.
const NoEnd = int64(1<<63 - 1)

// Others names the rows whose files DeleteBatch reads after deleting: the
// rows in IDs, and every row above id After (those a caller's earlier
// scan of the table could not see).
type Others struct {
	IDs   []int64
	After int64
}

// Deleted is what DeleteBatch did.
type Deleted struct {
	// Fileless counts the rows without a file that it deleted.
	Fileless int64
	// Rows are the rows with a file that it deleted, in id order.
	Rows []Submission
	// OtherFiles are the files of the rows that Others named and that are
	// still there after the deletion, as stored.
	OtherFiles []string
	// LockHeld is how long the transaction held the write lock.
	LockHeld time.Duration
	// Unsettled means that the files of Rows may not be removed yet: a
	// transaction that began before the commit may still write one of the
	// rows back (see pgDB.settle). The caller leaves them listed in its
	// journal, for the next run to check.
	Unsettled bool
}
