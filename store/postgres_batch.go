package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// The PostgreSQL statements of a batch. $1 is always the cutoff, a
// timestamp with time zone; a batch is the ids ($2, $3].
var (
	// pgInRange limits a statement to the stale rows of a batch, through
	// the status index.
	pgInRange = `status IN (` + staleStatusList + `) AND id > $2 AND id <= $3 AND ` + stalePredicate("$1")

	// pgBatchEnd finds the id of the n-th row of one status after $2.
	pgBatchEnd = `SELECT id FROM ` + Table + ` WHERE status = $1 AND id > $2 ORDER BY id LIMIT 1 OFFSET $3`

	// pgBatchFiles reads a batch's stale rows that have a file.
	pgBatchFiles = `SELECT id, slug, status, stl_file FROM ` + Table + `
WHERE stl_file <> '' AND ` + pgInRange + ` ORDER BY id LIMIT $4`

	// pgDeleteFiles deletes a batch's stale rows that have a file, but for
	// the ids in $4 (the rows whose file the caller keeps), and returns
	// them. The rows are locked first, and a row that another transaction
	// holds locked (the web app, writing it) is skipped: it stays, and
	// the statement never waits for it. The delete then finds the locked
	// rows by their physical address (ctid), which no one else can change
	// while the lock is held: a TID scan, about half the cost of looking
	// the ids up again in the primary key.
	pgDeleteFiles = `WITH locked AS (
SELECT ctid FROM ` + Table + ` WHERE stl_file <> '' AND ` + pgInRange + ` AND id <> ALL($4)
FOR UPDATE SKIP LOCKED)
DELETE FROM ` + Table + ` WHERE ctid = ANY(ARRAY(SELECT ctid FROM locked))
RETURNING id, slug, status, stl_file`

	// pgDeleteFileless deletes a batch's stale rows without a file, but
	// those that another transaction holds locked, as pgDeleteFiles does.
	pgDeleteFileless = `WITH locked AS (
SELECT ctid FROM ` + Table + ` WHERE stl_file = '' AND ` + pgInRange + `
FOR UPDATE SKIP LOCKED)
DELETE FROM ` + Table + ` WHERE ctid = ANY(ARRAY(SELECT ctid FROM locked))`

	// pgOtherFiles reads the files of the rows in $2 (an array of ids) and
	// of every row above id $1, through the primary key.
	pgOtherFiles = `SELECT stl_file FROM ` + Table + `
WHERE (id > $1 OR id = ANY($2)) AND stl_file <> ''`
)

// DeleteBatch deletes the next batch of stale rows (see protocol.DB): it
// reads the batch, hands its rows with a file to req.Prepare, then deletes
// in one short transaction that judges every row again.
func (d *pgDB) DeleteBatch(ctx context.Context, req protocol.Request) (protocol.Deleted, error) {
	if d.readOnly {
		return protocol.Deleted{}, fmt.Errorf("delete: database opened read-only")
	}
	b, err := d.nextBatch(ctx, req.Cutoff, req.After, req.Size, req.MaxFiles)
	if err != nil {
		return protocol.Deleted{}, err
	}
	others, err := prepare(ctx, req, &b)
	if err != nil {
		return protocol.Deleted{}, err
	}
	del, err := d.deleteBatch(ctx, req.Cutoff, b, others)
	del.End = b.End
	return del, err
}

// nextBatch reads the next batch after id after, as SQLite's does: its
// end is the highest id such that the batch holds at most n rows of each
// stale status, and at most maxFiles stale rows with a file. It locks
// nothing; deleteBatch judges every row again.
func (d *pgDB) nextBatch(ctx context.Context, cutoff time.Time, after int64, n, maxFiles int) (batch, error) {
	b := batch{After: after, End: protocol.NoEnd}
	for _, status := range staleStatuses {
		var id int64
		err := d.db.QueryRowContext(ctx, pgBatchEnd, status, after, n-1).Scan(&id)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return b, fmt.Errorf("find batch end: %w", err)
		case id < b.End:
			b.End = id
		}
	}
	files, err := scanSubmissions(d.db.QueryContext(ctx, pgBatchFiles, d.timeArg(cutoff), after, b.End, maxFiles))
	if err != nil {
		return b, err
	}
	if len(files) == maxFiles {
		b.End = files[len(files)-1].ID
	}
	b.Files = files
	b.Read = make([]int64, len(files))
	for i, s := range files {
		b.Read[i] = s.ID
	}
	return b, nil
}

// deleteBatch deletes the rows of b that are still stale, in one short
// transaction. Each row is judged stale again as it is locked,
// so a guest who confirms at that moment is never lost; a row that the
// web app holds locked is skipped, never waited on, and stays.
//
// The rows with a file go first, and come back: each must be a row of
// b.Files with the file read, that is, journaled. Any other one rolls the
// batch back with ErrBatchChanged. Then the rows without a file go, and
// the files of others are read, all in the same transaction.
func (d *pgDB) deleteBatch(ctx context.Context, cutoff time.Time, b batch, others protocol.Others) (del protocol.Deleted, err error) {
	c := d.timeArg(cutoff)
	err = writeTx(ctx, d.db, &del.LockHeld, commitError, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if del.Rows, err = deleteJournaled(ctx, tx, c, b); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, pgDeleteFileless, c, b.After, b.End)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if del.Fileless, err = res.RowsAffected(); err != nil {
			return err
		}
		if len(del.Rows) == 0 || others.None() {
			return nil
		}
		del.OtherFiles, err = scanStrings(tx.QueryContext(ctx, pgOtherFiles, newRowsAfter(others), int8Array(others.IDs)))
		if err != nil {
			return fmt.Errorf("check shared files: %w", err)
		}
		return nil
	})
	if err != nil {
		return protocol.Deleted{LockHeld: del.LockHeld}, err
	}
	return del, nil
}

// deleteJournaled deletes the stale rows of b's range that have a file,
// but those the caller keeps, and returns them in id order. Each must be
// a row of b.Files that still names the file read: a row whose file was
// not journaled is ErrBatchChanged, and the caller's transaction rolls
// back.
func deleteJournaled(ctx context.Context, tx *sql.Tx, cutoff any, b batch) ([]Submission, error) {
	rows, err := scanSubmissions(tx.QueryContext(ctx, pgDeleteFiles, cutoff, b.After, b.End, int8Array(b.keptIDs())))
	if err != nil {
		return nil, fmt.Errorf("delete: %w", err)
	}
	journaled := make(map[int64]string, len(b.Files))
	for _, s := range b.Files {
		journaled[s.ID] = s.File
	}
	for _, s := range rows {
		if f, ok := journaled[s.ID]; !ok || f != s.File {
			return nil, fmt.Errorf("%w: row %s names %q", protocol.ErrBatchChanged, s.Slug, s.File)
		}
	}
	sortByID(rows)
	return rows, nil
}

// int8Array is ids as a parameter for `= ANY($n)` or `<> ALL($n)`: never
// nil, which pgx would send as NULL, and `id <> ALL(NULL)` matches nothing.
func int8Array(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
