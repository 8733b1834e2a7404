package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// reads are the read-only queries, written once for both databases. The
// SQL differs only in what dialect says: how a parameter is written, how a
// time is passed, and how a timestamp is read back.
type reads struct {
	db *sql.DB
	dialect
}

// dialect is what differs between SQLite and PostgreSQL in the read
// queries.
type dialect struct {
	// param is the n-th parameter: "?1" in SQLite, "$1" in PostgreSQL.
	param func(n int) string
	// timeArg passes a time: text in the web app's format for SQLite,
	// where timestamps are text; the instant itself for PostgreSQL.
	timeArg func(time.Time) any
	// rawTime reads a timestamp column as the driver should return it:
	// text in SQLite (not the driver's guess at a time), the value in
	// PostgreSQL.
	rawTime func(col string) string
}

var sqliteDialect = dialect{
	param:   func(n int) string { return "?" + strconv.Itoa(n) },
	timeArg: func(t time.Time) any { return FormatTime(t) },
	rawTime: func(col string) string { return col + " || ''" },
}

// CountStale returns how many rows are stale at cutoff, through the status
// index.
func (r reads) CountStale(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := r.db.QueryRowContext(ctx, r.countStaleQuery(), r.timeArg(cutoff)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count stale rows: %w", err)
	}
	return n, nil
}

func (r reads) countStaleQuery() string {
	return `SELECT count(*) FROM ` + Table + ` WHERE status IN (` + staleStatusList + `) AND ` + stalePredicate(r.param(1))
}

// EachStale calls fn for every row stale at cutoff, in id order (see
// eachStale).
func (r reads) EachStale(ctx context.Context, cutoff time.Time, fn func(Submission) error) error {
	c := r.timeArg(cutoff)
	return eachStale(ctx, func(ctx context.Context, status string, after int64, limit int) ([]Submission, error) {
		return scanSubmissions(r.db.QueryContext(ctx, r.stalePageQuery(), c, status, after, limit))
	}, fn)
}

// stalePageQuery pages through the stale rows of one status in id order.
// With the status fixed, the database walks the status index from
// (status, id) onwards: an index seek per page, no sort.
func (r reads) stalePageQuery() string {
	return `SELECT id, slug, status, stl_file FROM ` + Table + `
WHERE status = ` + r.param(2) + ` AND id > ` + r.param(3) + ` AND ` + stalePredicate(r.param(1)) + `
ORDER BY id LIMIT ` + r.param(4)
}
