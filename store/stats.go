package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Stats is a summary of the table for `cleanup-stale stats`.
type Stats struct {
	// ByStatus counts every row by status, whatever the status.
	ByStatus map[string]int64
	// Stale counts the rows stale at the cutoff, per stale status.
	Stale map[string]int64
	// Oldest is the stale row that has been stale longest, if any, and
	// Since is when it went stale: created_at for identifying, closed_at
	// for rejected.
	Oldest *Submission
	Since  time.Time
}

// staleSince names, per stale status, the column that makes it stale.
var staleSince = map[string]string{"identifying": "created_at", "rejected": "closed_at"}

// Stats counts rows per status and stale rows per stale status at cutoff.
// Every query is its own short read through the status index, so that a
// stats run never holds a lock that the web app waits on for long.
func (d *DB) Stats(ctx context.Context, cutoff time.Time) (*Stats, error) {
	st := &Stats{ByStatus: map[string]int64{}, Stale: map[string]int64{}}
	// Walk the distinct statuses through the index, one seek each.
	status, err := d.nextStatus(ctx, nil)
	for ; err == nil && status != nil; status, err = d.nextStatus(ctx, status) {
		var n int64
		if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM `+Table+` WHERE status = ?`, *status).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %q rows: %w", *status, err)
		}
		st.ByStatus[*status] = n
	}
	if err != nil {
		return nil, err
	}
	c := FormatTime(cutoff)
	for _, status := range StaleStatuses {
		col := staleSince[status]
		var n int64
		if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM `+Table+` WHERE status = ?1 AND `+col+` < ?2`,
			status, c).Scan(&n); err != nil {
			return nil, fmt.Errorf("count stale %s rows: %w", status, err)
		}
		st.Stale[status] = n
		if n == 0 {
			continue
		}
		var s Submission
		var since string
		// `|| ''` reads the raw text, not the driver's time.Time.
		err := d.db.QueryRowContext(ctx, `SELECT id, slug, status, stl_file, `+col+` || '' FROM `+Table+`
WHERE status = ?1 AND `+col+` < ?2 ORDER BY `+col+`, id LIMIT 1`, status, c).Scan(&s.ID, &s.Slug, &s.Status, &s.File, &since)
		if err != nil {
			return nil, fmt.Errorf("find the oldest stale %s row: %w", status, err)
		}
		t, err := ParseTime(since)
		if err != nil {
			return nil, fmt.Errorf("row %s: %s %q: %w", s.Slug, col, since, err)
		}
		if st.Oldest == nil || t.Before(st.Since) {
			st.Oldest, st.Since = &s, t
		}
	}
	return st, nil
}

// nextStatus returns the first status after after (nil: the first one), or
// nil when there is none.
func (d *DB) nextStatus(ctx context.Context, after *string) (*string, error) {
	q, args := `SELECT status FROM `+Table+` ORDER BY status LIMIT 1`, []any{}
	if after != nil {
		q, args = `SELECT status FROM `+Table+` WHERE status > ? ORDER BY status LIMIT 1`, []any{*after}
	}
	var s string
	switch err := d.db.QueryRowContext(ctx, q, args...).Scan(&s); err {
	case nil:
		return &s, nil
	case sql.ErrNoRows:
		return nil, nil
	default:
		return nil, fmt.Errorf("list statuses: %w", err)
	}
}
