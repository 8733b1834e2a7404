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

// Batch is one slice of the stale rows: the ids (After, End].
type Batch struct {
	After, End int64
	// Files are the stale rows in the range that have a file, as read
	// before the write transaction, in id order. DeleteBatch deletes only
	// these of the rows with a file, and only while their file is the one
	// read here: the caller has written these files into its journal. The
	// caller may leave rows out; those stay.
	Files []Submission

	// The store's own bookkeeping: the ids of Files as read, and SQLite's
	// data_version when the read began.
	Read    []int64
	Version int64
}

// KeptIDs returns the ids that were read into Files and left out of it
// since.
func (b Batch) KeptIDs() []int64 {
	if len(b.Read) == len(b.Files) {
		return nil
	}
	in := make(map[int64]bool, len(b.Files))
	for _, s := range b.Files {
		in[s.ID] = true
	}
	var out []int64
	for _, id := range b.Read {
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
	// rows back (see the PostgreSQL store's settle). The caller leaves them listed in its
	// journal, for the next run to check.
	Unsettled bool
}
