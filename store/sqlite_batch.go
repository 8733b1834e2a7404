package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
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

	// sqliteDeleteAll deletes a batch's stale rows, all of them: the fast
	// path, when nobody has written since the batch was read, so that its
	// rows with a file are exactly those read.
	sqliteDeleteAll = `DELETE FROM ` + Table + ` WHERE ` + sqliteInRange

	// sqliteDeleteAllBut is sqliteDeleteAll but for the ids in ?4 (a JSON
	// array): the rows whose file the caller keeps.
	sqliteDeleteAllBut = sqliteDeleteAll + ` AND id NOT IN (SELECT value FROM json_each(?4))`
)

// DeleteBatch deletes the next batch of stale rows (see protocol.DB). It
// reads the batch without the write lock, hands its rows with a file to
// req.Prepare, still without the lock, then deletes in one short write
// transaction, which judges every row again.
func (d *sqliteDB) DeleteBatch(ctx context.Context, req protocol.Request) (protocol.Deleted, error) {
	if d.readOnly {
		return protocol.Deleted{}, fmt.Errorf("delete: database opened read-only")
	}
	b, err := d.readBatch(ctx, req)
	if err != nil {
		return protocol.Deleted{}, err
	}
	if err := prepare(ctx, req, &b); err != nil {
		return protocol.Deleted{}, err
	}
	del, err := d.deleteBatch(ctx, req.Cutoff, b)
	del.End = b.End
	return del, err
}

// aheadRead is a batch that ReadAhead read, and the request it read it
// for.
type aheadRead struct {
	req protocol.Request
	b   batch
}

// ReadAhead reads the batch that DeleteBatch(ctx, req) will delete (see
// protocol.DB). Its read takes no write lock: in rollback-journal mode it
// holds off a commit of the web app for as long as one of its short,
// indexed statements runs, as the read in DeleteBatch would. A read that
// fails is left for DeleteBatch to do again.
func (d *sqliteDB) ReadAhead(ctx context.Context, req protocol.Request) {
	d.ahead = nil
	if b, err := d.nextBatch(ctx, req.Cutoff, req.After, req.Size, req.MaxFiles); err == nil {
		d.ahead = &aheadRead{req: req, b: b}
	}
}

// readBatch is the batch that req asks for: the one ReadAhead read for
// it, or a new read. The data_version read with it tells deleteBatch
// whether anything was written since.
func (d *sqliteDB) readBatch(ctx context.Context, req protocol.Request) (batch, error) {
	a := d.ahead
	d.ahead = nil
	if a != nil && a.req.Cutoff.Equal(req.Cutoff) && a.req.After == req.After && a.req.Size == req.Size && a.req.MaxFiles == req.MaxFiles {
		return a.b, nil
	}
	return d.nextBatch(ctx, req.Cutoff, req.After, req.Size, req.MaxFiles)
}

// nextBatch reads the next batch after id after: its end is the highest id
// such that the batch holds at most n rows of each stale status, and at
// most maxFiles stale rows with a file. It runs without the write lock;
// deleteBatch judges every row again under it.
func (d *sqliteDB) nextBatch(ctx context.Context, cutoff time.Time, after int64, n, maxFiles int) (batch, error) {
	b := batch{After: after, End: protocol.NoEnd}
	// First, so that any commit by another connection after it shows.
	if err := d.db.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&b.Version); err != nil {
		return b, fmt.Errorf("read data version: %w", err)
	}
	for _, status := range staleStatuses {
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
	b.Read = make([]int64, len(files))
	for i, s := range files {
		b.Read[i] = s.ID
	}
	return b, nil
}

// deleteBatch deletes the rows of b that are still stale, in one write
// transaction. BEGIN IMMEDIATE takes the write lock before the
// first read, so staleness is judged under the lock that deletes the row:
// a guest who confirms at that moment is never lost.
//
// Every moment of the transaction is a moment the web app cannot write,
// so it takes the fast path when it can: if no other connection has
// committed since b was read (SQLite's data_version), the batch's rows
// with a file are exactly those read, and one plain DELETE over the range
// deletes the right rows. Otherwise each row with a file comes back and is
// checked against b.Files.
func (d *sqliteDB) deleteBatch(ctx context.Context, cutoff time.Time, b batch) (del protocol.Deleted, err error) {
	c := FormatTime(cutoff)
	err = writeTx(ctx, d.db, &del.LockHeld, sqliteCommitError, func(ctx context.Context, tx *sql.Tx) error {
		var version int64
		if err := tx.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&version); err != nil {
			return fmt.Errorf("read data version: %w", err)
		}
		if version == b.Version {
			return deleteUnchanged(ctx, tx, c, b, &del)
		}
		return deleteChanged(ctx, tx, c, b, &del)
	})
	if err != nil {
		return protocol.Deleted{LockHeld: del.LockHeld}, err
	}
	return del, nil
}

// deleteUnchanged is DeleteBatch's fast path: nothing changed since b was
// read, so the stale rows of the range are the rows without a file, the
// rows of b.Files, and the rows read but left out of b.Files, which stay.
func deleteUnchanged(ctx context.Context, tx *sql.Tx, cutoff string, b batch, del *protocol.Deleted) error {
	q, args := sqliteDeleteAll, []any{cutoff, b.After, b.End}
	if keep := b.keptIDs(); len(keep) > 0 {
		q, args = sqliteDeleteAllBut, append(args, jsonInts(keep))
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n < int64(len(b.Files)) {
		return fmt.Errorf("%w: %d rows deleted, %d with files expected", protocol.ErrBatchChanged, n, len(b.Files))
	}
	del.Fileless, del.Rows = n-int64(len(b.Files)), b.Files
	return nil
}

// deleteChanged is DeleteBatch's path when another connection has written
// since b was read: it reads the range's rows with a file again, under the
// lock. A row of b.Files that is no longer stale stays (a guest who
// confirmed). A row with a file that b.Files does not hold, or holds with
// another file, was not journaled: ErrBatchChanged, and nothing is deleted.
// Otherwise the rows are as the fast path needs them.
func deleteChanged(ctx context.Context, tx *sql.Tx, cutoff string, b batch, del *protocol.Deleted) error {
	now, err := scanSubmissions(tx.QueryContext(ctx, sqliteBatchFiles, cutoff, b.After, b.End, -1))
	if err != nil {
		return fmt.Errorf("read the batch again: %w", err)
	}
	journaled := make(map[int64]string, len(b.Files))
	for _, s := range b.Files {
		journaled[s.ID] = s.File
	}
	kept := map[int64]bool{}
	for _, id := range b.keptIDs() {
		kept[id] = true
	}
	still := b
	still.Files = nil
	for _, s := range now {
		switch f, ok := journaled[s.ID]; {
		case kept[s.ID]:
		case !ok || f != s.File:
			return fmt.Errorf("%w: row %s names %q", protocol.ErrBatchChanged, s.Slug, s.File)
		default:
			still.Files = append(still.Files, s)
		}
	}
	return deleteUnchanged(ctx, tx, cutoff, still, del)
}

// sqliteCommitError wraps a failed COMMIT. SQLite's outcome is never in
// doubt: a COMMIT that fails (busy, say) leaves the transaction open, and
// writeTx rolls it back.
func sqliteCommitError(err error) error { return fmt.Errorf("commit: %w", err) }
