package store

import (
	"context"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// batch is one slice of the stale rows, the ids (After, End], as a store
// reads it before its write transaction.
type batch struct {
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

// keptIDs returns the ids that were read into Files and left out of it
// since.
func (b batch) keptIDs() []int64 {
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

// prepare hands b's files to req.Prepare and narrows b to the rows it lets
// go.
func prepare(ctx context.Context, req protocol.Request, b *batch) error {
	if req.Prepare == nil {
		return nil
	}
	p, err := req.Prepare(ctx, b.Files)
	if err != nil {
		return err
	}
	b.Files = p.Files
	return nil
}
