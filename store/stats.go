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
	// Since is when it went stale: the time in its rule's column.
	Oldest *Submission
	Since  time.Time
}

// Stats counts rows per status and stale rows per stale status at cutoff.
// Every query is its own short read through the status index, so that a
// stats run never holds a lock that the web app waits on for long.
func (r reads) Stats(ctx context.Context, cutoff time.Time) (*Stats, error) {
	st := &Stats{ByStatus: map[string]int64{}, Stale: map[string]int64{}}
	// Walk the distinct statuses through the index, one seek each.
	status, err := r.nextStatus(ctx, nil)
	for ; err == nil && status != nil; status, err = r.nextStatus(ctx, status) {
		var n int64
		if err := r.db.QueryRowContext(ctx, r.countStatusQuery(), *status).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %q rows: %w", *status, err)
		}
		st.ByStatus[*status] = n
	}
	if err != nil {
		return nil, err
	}
	c := r.timeArg(cutoff)
	for _, rule := range staleRules {
		col := rule.Since
		var n int64
		if err := r.db.QueryRowContext(ctx, r.countStaleOfQuery(rule), rule.Status, c).Scan(&n); err != nil {
			return nil, fmt.Errorf("count stale %s rows: %w", rule.Status, err)
		}
		st.Stale[rule.Status] = n
		if n == 0 {
			continue
		}
		var s Submission
		var since any
		err := r.db.QueryRowContext(ctx, r.oldestStaleQuery(rule), rule.Status, c).Scan(&s.ID, &s.Slug, &s.Status, &s.File, &since)
		if err != nil {
			return nil, fmt.Errorf("find the oldest stale %s row: %w", rule.Status, err)
		}
		t, err := timeOf(since)
		if err != nil {
			return nil, fmt.Errorf("row %s: %s: %w", s.Slug, col, err)
		}
		if st.Oldest == nil || t.Before(st.Since) {
			st.Oldest, st.Since = &s, t
		}
	}
	return st, nil
}

// timeOf reads a timestamp as rawTime returns it.
func timeOf(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v.UTC(), nil
	case string:
		return ParseTime(v)
	case []byte:
		return ParseTime(string(v))
	}
	return time.Time{}, fmt.Errorf("unexpected timestamp %T", v)
}

// nextStatus returns the first status after after (nil: the first one), or
// nil when there is none.
func (r reads) nextStatus(ctx context.Context, after *string) (*string, error) {
	q, args := r.firstStatusQuery(), []any{}
	if after != nil {
		q, args = r.nextStatusQuery(), []any{*after}
	}
	var s string
	switch err := r.db.QueryRowContext(ctx, q, args...).Scan(&s); err {
	case nil:
		return &s, nil
	case sql.ErrNoRows:
		return nil, nil
	default:
		return nil, fmt.Errorf("list statuses: %w", err)
	}
}

// The statements of Stats, each a seek in the status index.

func (r reads) countStatusQuery() string {
	return `SELECT count(*) FROM ` + Table + ` WHERE status = ` + r.param(1)
}

func (r reads) countStaleOfQuery(rule StaleRule) string {
	return `SELECT count(*) FROM ` + Table + ` WHERE status = ` + r.param(1) + ` AND ` + rule.Since + ` < ` + r.param(2)
}

// oldestStaleQuery sorts the stale rows of one status by when they went
// stale: a bounded sort (LIMIT 1) of one index range.
func (r reads) oldestStaleQuery(rule StaleRule) string {
	return `SELECT id, slug, status, stl_file, ` + r.rawTime(rule.Since) + ` FROM ` + Table + `
WHERE status = ` + r.param(1) + ` AND ` + rule.Since + ` < ` + r.param(2) + ` ORDER BY ` + rule.Since + `, id LIMIT 1`
}

func (r reads) firstStatusQuery() string {
	return `SELECT status FROM ` + Table + ` ORDER BY status LIMIT 1`
}

func (r reads) nextStatusQuery() string {
	return `SELECT status FROM ` + Table + ` WHERE status > ` + r.param(1) + ` ORDER BY status LIMIT 1`
}
