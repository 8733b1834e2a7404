package store

import (
	"context"
	"fmt"
	"time"
)

// listPage is how many rows of one status EachStale reads per query.
const listPage = 1000

// staleQuery pages through the stale rows of one status in id order. With
// status fixed, SQLite walks the status index from (status, id) onwards: an
// index seek per page, no sort, and no row visited twice across pages.
const staleQuery = `SELECT id, slug, status, stl_file FROM ` + Table + `
WHERE status = ?2 AND id > ?3 AND ` + stalePredicate + `
ORDER BY id LIMIT ?4`

// CountStale returns how many rows are stale at cutoff.
func (d *DB) CountStale(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM `+Table+`
WHERE status IN ('identifying', 'rejected') AND `+stalePredicate, FormatTime(cutoff)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count stale rows: %w", err)
	}
	return n, nil
}

// EachStale calls fn for every row that is stale at cutoff, in id order, as
// a dry run lists them. It merges one cursor per stale status, and each
// cursor reads a page at a time in its own short read, so memory stays at
// two pages and no lock is held while fn runs.
//
// The listing is not one snapshot: a row that the web app changes while it
// runs may or may not be listed. A dry run is a preview, and a snapshot
// would mean holding a read lock for the whole listing.
func (d *DB) EachStale(ctx context.Context, cutoff time.Time, fn func(Submission) error) error {
	c := FormatTime(cutoff)
	cursors := make([]*staleCursor, len(StaleStatuses))
	for i, st := range StaleStatuses {
		cursors[i] = &staleCursor{status: st}
	}
	for {
		var next *staleCursor
		for _, cur := range cursors {
			if err := cur.fill(ctx, d, c); err != nil {
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

func (c *staleCursor) fill(ctx context.Context, d *DB, cutoff string) error {
	if len(c.rows) > 0 || c.done {
		return nil
	}
	rows, err := scanSubmissions(d.db.QueryContext(ctx, staleQuery, cutoff, c.status, c.after, listPage))
	if err != nil {
		return err
	}
	c.rows, c.done = rows, len(rows) < listPage
	if len(rows) > 0 {
		c.after = rows[len(rows)-1].ID
	}
	return nil
}
