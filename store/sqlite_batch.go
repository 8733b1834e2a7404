package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The SQLite statements of a batch. ?1 is always the cutoff, in the web
// app's text format; a batch is the ids (?2, ?3].
var (
	// sqliteInRange limits a statement to the stale rows of a batch, through
	// the status index, whose entries are (status, id).
	sqliteInRange = `status IN (` + staleStatusList + `) AND id > ?2 AND id <= ?3 AND ` + stalePredicate("?1")

	// sqliteBatchEnd finds the id of the n-th row of one status after ?2.
	// It reads the status index only: the index holds the ids.
	sqliteBatchEnd = `SELECT id FROM ` + Table + ` WHERE status = ?1 AND id > ?2 ORDER BY id LIMIT 1 OFFSET ?3`

	// sqliteBatchFiles reads a batch's stale rows that have a file.
	sqliteBatchFiles = `SELECT id, slug, status, stl_file FROM ` + Table + `
WHERE stl_file <> '' AND ` + sqliteInRange + ` ORDER BY id LIMIT ?4`

	// sqliteDelete deletes a batch's stale rows that have no file, and
	// those of the ids in ?4 (a JSON array): the rows with a file that the
	// caller has journaled. It walks the batch's range of the status index
	// once.
	sqliteDelete = `DELETE FROM ` + Table + ` WHERE ` + sqliteInRange + `
  AND (stl_file = '' OR id IN (SELECT value FROM json_each(?4)))
RETURNING id, slug, status, stl_file`

	// sqliteOtherFiles reads the files of the rows in ?2 (a JSON array of
	// ids) and of every row above id ?1, all by rowid.
	sqliteOtherFiles = `SELECT stl_file FROM ` + Table + `
WHERE (id > ?1 OR id IN (SELECT value FROM json_each(?2))) AND stl_file <> ''`
)

// NextBatch reads the next batch after id after: its end is the highest id
// such that the batch holds at most n rows of each stale status, and at
// most maxFiles stale rows with a file. It runs without the write lock;
// DeleteBatch judges every row again under it.
func (d *sqliteDB) NextBatch(ctx context.Context, cutoff time.Time, after int64, n, maxFiles int) (Batch, error) {
	b := Batch{After: after, End: NoEnd}
	for _, status := range StaleStatuses {
		var id int64
		err := d.db.QueryRowContext(ctx, sqliteBatchEnd, status, after, n-1).Scan(&id)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return b, fmt.Errorf("find batch end: %w", err)
		case id < b.End:
			b.End = id
		}
	}
	files, err := scanSubmissions(d.db.QueryContext(ctx, sqliteBatchFiles, FormatTime(cutoff), after, b.End, maxFiles))
	if err != nil {
		return b, err
	}
	if len(files) == maxFiles {
		b.End = files[len(files)-1].ID
	}
	b.Files = files
	return b, nil
}

// DeleteBatch deletes the rows of b that are still stale, in one write
// transaction (see DB). BEGIN IMMEDIATE takes the write lock before the
// first read, so staleness is judged under the lock that deletes the row:
// a guest who confirms at that moment is never lost.
func (d *sqliteDB) DeleteBatch(ctx context.Context, cutoff time.Time, b Batch, others Others) (del Deleted, err error) {
	if d.readOnly {
		return del, fmt.Errorf("delete: database opened read-only")
	}
	ids := make([]int64, len(b.Files))
	for i, s := range b.Files {
		ids[i] = s.ID
	}
	c := FormatTime(cutoff)
	err = d.inWriteTx(ctx, &del.LockHeld, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := scanSubmissions(tx.QueryContext(ctx, sqliteDelete, c, b.After, b.End, jsonInts(ids)))
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if err := del.split(rows, b.Files); err != nil {
			return err
		}
		if len(del.Rows) > 0 {
			del.OtherFiles, err = scanStrings(tx.QueryContext(ctx, sqliteOtherFiles, others.After, jsonInts(others.IDs)))
			if err != nil {
				return fmt.Errorf("check shared files: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Deleted{LockHeld: del.LockHeld}, err
	}
	return del, nil
}

// inWriteTx runs fn in a write transaction and commits it, adding to held
// how long the write lock was held. It is the one place where the rule
// "a transaction once begun runs to its commit" lives: ctx can end the
// wait for the lock (SIGTERM while the web app holds it), but fn and the
// commit run on a context that no signal cancels.
func (d *sqliteDB) inWriteTx(ctx context.Context, held *time.Duration, fn func(context.Context, *sql.Tx) error) error {
	txCtx, done := context.WithCancel(context.WithoutCancel(ctx))
	defer done()
	stop := context.AfterFunc(ctx, done)
	tx, err := d.db.BeginTx(txCtx, nil)
	if !stop() { // ctx ended during the wait: give up, nothing is done yet
		if err == nil {
			tx.Rollback()
		}
		return fmt.Errorf("begin: %w", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	start := time.Now()
	defer func() { *held += time.Since(start) }()
	defer tx.Rollback()
	if err := fn(txCtx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
