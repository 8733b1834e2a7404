package store

import (
	"context"
	"fmt"
)

// Reads that walk many rows do it a page at a time, each page its own
// short read, and call back only between pages, with no lock held. In
// SQLite's rollback-journal mode a long read would hold off the web app's
// commits; in PostgreSQL it would hold a snapshot open.
const (
	// listPage is how many rows of one status eachStale reads per query.
	listPage = 1000
)

// stalePage reads up to limit stale rows of one status with an id above
// after, in id order.
type stalePage func(ctx context.Context, status string, after int64, limit int) ([]Submission, error)

// eachStale calls fn for every stale row, in id order. It merges one cursor
// per stale status, each reading a page at a time, so that memory stays at
// a page per status.
//
// The listing is not one snapshot: a row that the web app changes while it
// runs may or may not be listed. A dry run is a preview, and a snapshot
// would mean holding a read open for the whole listing.
func eachStale(ctx context.Context, page stalePage, fn func(Submission) error) error {
	cursors := make([]*staleCursor, len(staleStatuses))
	for i, st := range staleStatuses {
		cursors[i] = &staleCursor{status: st}
	}
	for {
		var next *staleCursor
		for _, cur := range cursors {
			if err := cur.fill(ctx, page); err != nil {
				return err
			}
			if len(cur.rows) > 0 && (next == nil || cur.rows[0].ID < next.rows[0].ID) {
				next = cur
			}
		}
		if next == nil {
			return nil
		}
		row := next.rows[0]
		next.rows = next.rows[1:]
		if err := fn(row); err != nil {
			return err
		}
	}
}

// staleCursor pages through the stale rows of one status.
type staleCursor struct {
	status string
	rows   []Submission // read but not yet handed out
	after  int64        // highest id read so far
	done   bool         // the last page was short: nothing more to read
}

func (c *staleCursor) fill(ctx context.Context, page stalePage) error {
	if len(c.rows) > 0 || c.done {
		return nil
	}
	rows, err := page(ctx, c.status, c.after, listPage)
	if err != nil {
		return fmt.Errorf("list stale rows: %w", err)
	}
	c.rows, c.done = rows, len(rows) < listPage
	if len(rows) > 0 {
		c.after = rows[len(rows)-1].ID
	}
	return nil
}
