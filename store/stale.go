package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"
)

// Submission is one row of Table, as much of it as the tool needs.
type Submission struct {
	ID     int64
	Slug   string
	Status string
	// File is stl_file: the upload's path relative to MEDIA_ROOT, as the web
	// app stored it; "" means the row has no file.
	File string
}

// StaleStatuses are the statuses that can go stale (SPEC §2), each judged
// by its own column.
var StaleStatuses = []string{"identifying", "rejected"}

// stalePredicate is SPEC §2 word for word, with ?1 the cutoff in the web
// app's text format. A NULL closed_at compares as NULL, which never matches.
// Each query that uses it also says `status IN ('identifying', 'rejected')`
// or `status = ?`, so that SQLite walks the status index, whose entries are
// (status, id): an index seek, never a table scan.
const stalePredicate = `((status = 'identifying' AND created_at < ?1) OR (status = 'rejected' AND closed_at < ?1))`

// inRange limits a statement to the batch (?2, ?3] of ids, through the
// status index.
const inRange = `status IN ('identifying', 'rejected') AND id > ?2 AND id <= ?3 AND ` + stalePredicate

// NoEnd is the end of a batch that reaches past the last row.
const NoEnd = int64(math.MaxInt64)

// Tx is one short write transaction of the cleanup.
type Tx struct {
	tx     *sql.Tx
	cutoff string
	done   context.CancelFunc // releases the transaction's context
}

// Begin starts a write transaction with BEGIN IMMEDIATE: it waits up to the
// busy timeout for the web app's write lock and holds it until Commit or
// Rollback. Staleness is judged against cutoff.
//
// ctx can cut short the wait for the lock (SIGTERM while the web app holds
// it), but not the transaction once begun: a batch that has removed files
// must reach its commit, so the transaction runs on a context of its own.
func (d *DB) Begin(ctx context.Context, cutoff time.Time) (*Tx, error) {
	if d.readOnly {
		return nil, fmt.Errorf("begin: database opened read-only")
	}
	txCtx, done := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, done)
	tx, err := d.db.BeginTx(txCtx, nil)
	if !stop() { // ctx ended during the wait: give up, nothing is done yet
		if err == nil {
			tx.Rollback()
		}
		done()
		return nil, fmt.Errorf("begin: %w", ctx.Err())
	}
	if err != nil {
		done()
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{tx: tx, cutoff: FormatTime(cutoff), done: done}, nil
}

// BatchEnd returns where the batch that starts after id `after` ends: the
// highest end such that (after, end] holds at most n rows of each stale
// status, or NoEnd when fewer than n of each remain. It reads the status
// index only (it holds the ids), not the table.
func (t *Tx) BatchEnd(ctx context.Context, after int64, n int) (int64, error) {
	end := NoEnd
	for _, status := range StaleStatuses {
		var id int64
		err := t.tx.QueryRowContext(ctx, `SELECT id FROM `+Table+`
WHERE status = ?1 AND id > ?2 ORDER BY id LIMIT 1 OFFSET ?3`, status, after, n-1).Scan(&id)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return 0, fmt.Errorf("find batch end: %w", err)
		case id < end:
			end = id
		}
	}
	return end, nil
}

// DeleteFileless deletes the stale rows in (after, end] that have no file,
// and returns how many. With no file to remove first, they go in a single
// statement that never leaves SQLite.
func (t *Tx) DeleteFileless(ctx context.Context, after, end int64) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM `+Table+` WHERE stl_file = '' AND `+inRange,
		t.cutoff, after, end)
	if err != nil {
		return 0, fmt.Errorf("delete rows without files: %w", err)
	}
	return res.RowsAffected()
}

// StaleWithFiles returns the stale rows in (after, end] that have a file.
// It runs inside the write transaction, so the rows it returns stay stale
// until Commit: nobody else can write in between.
func (t *Tx) StaleWithFiles(ctx context.Context, after, end int64) ([]Submission, error) {
	return scanSubmissions(t.tx.QueryContext(ctx, `SELECT id, slug, status, stl_file FROM `+Table+`
WHERE stl_file <> '' AND `+inRange, t.cutoff, after, end))
}

// Delete deletes the rows with the given ids, if they are still stale, and
// returns how many it deleted. Re-checking the predicate costs nothing and
// means that no code path can delete a live row. NOT INDEXED keeps SQLite
// from walking the status index instead of looking the ids up.
func (t *Tx) Delete(ctx context.Context, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := t.tx.ExecContext(ctx, `DELETE FROM `+Table+` NOT INDEXED
WHERE id IN (SELECT value FROM json_each(?2)) AND `+stalePredicate, t.cutoff, jsonInts(ids))
	if err != nil {
		return 0, fmt.Errorf("delete: %w", err)
	}
	return res.RowsAffected()
}

// Commit commits the transaction and releases the write lock.
func (t *Tx) Commit() error {
	defer t.done()
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Rollback abandons the transaction. After Commit it does nothing, so it
// can be deferred.
func (t *Tx) Rollback() error {
	defer t.done()
	if err := t.tx.Rollback(); err != nil && err != sql.ErrTxDone {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

func scanSubmissions(rows *sql.Rows, err error) ([]Submission, error) {
	if err != nil {
		return nil, fmt.Errorf("query stale rows: %w", err)
	}
	defer rows.Close()
	var out []Submission
	for rows.Next() {
		var s Submission
		if err := rows.Scan(&s.ID, &s.Slug, &s.Status, &s.File); err != nil {
			return nil, fmt.Errorf("read stale row: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read stale rows: %w", err)
	}
	return out, nil
}
