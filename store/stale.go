package store

import (
	"context"
	"database/sql"
	"fmt"
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

// StaleStatuses are the statuses that can go stale (SPEC §2). Each is
// judged by its own column, so the tool pages through them one at a time,
// each one an index range on (status, id).
var StaleStatuses = []string{"identifying", "rejected"}

// stalePredicate is SPEC §2 word for word, with ?1 the cutoff in the web
// app's text format. A NULL closed_at compares as NULL, which never matches.
const stalePredicate = `((status = 'identifying' AND created_at < ?1) OR (status = 'rejected' AND closed_at < ?1))`

// staleQuery pages through the stale rows of one status in id order. With
// status fixed, SQLite walks the status index from (status, id) onwards: an
// index seek per page, no sort, and no row visited twice across pages.
const staleQuery = `SELECT id, slug, status, stl_file FROM ` + Table + `
WHERE status = ?2 AND id > ?3 AND ` + stalePredicate + `
ORDER BY id LIMIT ?4`

// Tx is one short write transaction of the cleanup.
type Tx struct {
	tx     *sql.Tx
	cutoff string
}

// Begin starts a write transaction with BEGIN IMMEDIATE: it waits up to the
// busy timeout for the web app's write lock and holds it until Commit or
// Rollback. Staleness is judged against cutoff.
func (d *DB) Begin(ctx context.Context, cutoff time.Time) (*Tx, error) {
	if d.readOnly {
		return nil, fmt.Errorf("begin: database opened read-only")
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{tx: tx, cutoff: FormatTime(cutoff)}, nil
}

// Stale returns up to limit stale rows of status with id > afterID, in id
// order. It runs inside the write transaction, so the rows it returns stay
// stale until Commit: nobody else can write in between.
func (t *Tx) Stale(ctx context.Context, status string, afterID int64, limit int) ([]Submission, error) {
	return scanSubmissions(t.tx.QueryContext(ctx, staleQuery, t.cutoff, status, afterID, limit))
}

// Delete deletes the rows with the given ids, if they are still stale, and
// returns how many it deleted. Re-checking the predicate costs nothing and
// means that no code path can delete a live row.
func (t *Tx) Delete(ctx context.Context, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := t.tx.ExecContext(ctx, `DELETE FROM `+Table+`
WHERE id IN (SELECT value FROM json_each(?2)) AND `+stalePredicate, t.cutoff, jsonInts(ids))
	if err != nil {
		return 0, fmt.Errorf("delete: %w", err)
	}
	return res.RowsAffected()
}

// Commit commits the transaction and releases the write lock.
func (t *Tx) Commit() error {
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Rollback abandons the transaction. After Commit it does nothing, so it
// can be deferred.
func (t *Tx) Rollback() error {
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
