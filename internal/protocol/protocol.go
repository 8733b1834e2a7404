// Package protocol is the contract between package cleanup and package
// store for deleting in batches (docs/design.md, The protocol): the
// batch, what a write transaction did, and the methods that a database
// opened by store.Open has besides its public face. It is internal so
// that it can change with the protocol; outside callers use cleanup.Run.
package protocol

import (
	"context"
	"errors"
	"time"
)

// DB is what cleanup needs of a database beyond store.DB. Every database
// that store.Open and store.OpenDSN return implements it.
type DB interface {
	// LocksWholeDatabase reports whether a write transaction holds off
	// every writer of the web app while it runs (SQLite), rather than
	// the writers of the rows it locks (PostgreSQL). A run then leaves the
	// database free between two transactions.
	LocksWholeDatabase() bool
	// Named calls fn with the file of every row that q asks for. It is
	// one scan of the table,
	// on purpose: nothing indexes stl_file, and one scan answers for many
	// files at once. It holds no write lock.
	Named(ctx context.Context, q NameQuery, fn func(file string) error) error
	// DeleteBatch deletes the next batch of stale rows (see Request), in
	// one write transaction that it begins and commits. It calls
	// req.Prepare once, with the batch's stale rows that have a file,
	// before any deletion of the batch can commit: where a transaction
	// locks only the rows it touches (PostgreSQL), inside the transaction,
	// once those rows are locked (the rows without a file may be deleted
	// already, uncommitted); where it would lock the whole database
	// (SQLite), before it deletes any row, just before
	// the transaction, so that nothing the caller does there holds off the
	// web app. It then deletes every stale row of the batch without a
	// file, and each row that Prepare let go while it still names the file
	// read; the other rows with a file stay. ctx can end the wait for the
	// lock, but not a transaction once begun: that one
	// runs to its commit.
	//
	// On error, nothing of the batch was deleted, unless the error wraps
	// ErrCommitUnknown. Prepare may have been called either way.
	DeleteBatch(ctx context.Context, req Request) (Deleted, error)
	// ReadAhead reads what DeleteBatch(ctx, req) reads before its write
	// transaction, so that the next DeleteBatch with the same req starts
	// from it: a run calls it while it pauses for the web app, and the
	// read costs the run no time of its own. The read may be stale by
	// then; DeleteBatch judges every row again under the lock, as it
	// always does. A store that reads nothing before its transaction
	// (PostgreSQL) does nothing. Never called while DeleteBatch runs.
	ReadAhead(ctx context.Context, req Request)
}

// NameQuery is what Named asks for: the rows that name one of Files by
// its exact text; those that lie below one of Prefixes (each ending in
// "/", or a whole name: symlinks whose targets the caller cannot see
// into); and, with Unclean, every row whose file is spelled in a form that
// path.Clean would change (stl//a.stl), which the caller cleans and
// compares.
type NameQuery struct {
	Files    []string
	Prefixes []string
	Unclean  bool
}

// Request is one call of DeleteBatch: the batch of stale rows after
// After, at most Size of each stale status (on PostgreSQL, Size times the
// number of stale statuses in all) and at most MaxFiles of them with a
// file, judged stale at Cutoff. After is 0 for the first batch, then the
// End of the one before: an id on SQLite, whose batches go in id order;
// a row's address on PostgreSQL, whose batches go in the table's physical
// order.
type Request struct {
	Cutoff   time.Time
	After    int64
	Size     int
	MaxFiles int
	// Prepare receives the batch's stale rows that have a file, in id
	// order, as read, and says which of them may go with their files: the
	// caller writes those files into its journal here, before their rows'
	// deletion can commit. Rows it leaves out stay. An error rolls the
	// batch back: nothing is deleted.
	Prepare func(ctx context.Context, files []Submission) (Prepared, error)
}

// Prepared is what Request.Prepare lets DeleteBatch do.
type Prepared struct {
	// Files are the rows with a file that may be deleted, a subset of the
	// rows Prepare received.
	Files []Submission
}

// ErrCommitUnknown means that a write transaction's COMMIT failed in a way
// that leaves its outcome unknown: the connection to the server was lost
// while it committed. Its rows may or may not be gone.
var ErrCommitUnknown = errors.New("outcome of the commit unknown")

// ErrBatchChanged means that a row of a batch changed between the read of
// the batch and its write transaction, which then rolled back: deleted
// nothing. Reading the batch again and retrying is safe.
var ErrBatchChanged = errors.New("a row changed since the batch was read")

// Submission is one row of Table, as much of it as the tool needs.
type Submission struct {
	ID     int64
	Slug   string
	Status string
	// File is stl_file: the upload's path relative to MEDIA_ROOT, as the web
	// app stored it; "" means the row has no file.
	File string
}

// NoEnd is the end of a batch that reaches past the last row.
const NoEnd = int64(1<<63 - 1)

// Deleted is what DeleteBatch did.
type Deleted struct {
	// Fileless counts the rows without a file that it deleted.
	Fileless int64
	// Rows are the rows with a file that it deleted, in id order.
	Rows []Submission
	// LockHeld is how long the transaction held the write lock.
	LockHeld time.Duration
	// End is where the batch reached, in the store's own order (see
	// Request.After): the next batch starts after it. NoEnd when the batch
	// reached past the last stale row.
	End int64
	// Fit, when not 0, is the Size at which a batch would hold about
	// MaxFiles rows with a file, at this batch's share of them: a store
	// that locks a batch's rows as it reads them (PostgreSQL) locks more
	// than it deletes when a batch has more rows with a file than
	// MaxFiles, so the caller keeps Size at most Fit.
	Fit int
}
