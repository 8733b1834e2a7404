package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// The PostgreSQL statements of a batch. $1 is always the cutoff, a
// timestamp with time zone.
//
// A batch is the next stale rows in the table's physical order, after a
// row address (ctid): PostgreSQL has no index that lists the stale rows
// in id order (the status index holds the status alone), so a batch in id
// order would sort every stale row left, once per batch. In physical
// order the batch is where the scan stops: the status index's bitmap when
// few rows are stale, a scan of the pages after the last batch's when
// many are (docs/design.md, The protocol).
var (
	// pgLockBatch locks the next $3 stale rows after address $2, skipping
	// those that another transaction holds locked (the web app, writing
	// them): it never waits for one, and they stay. Each row is judged
	// stale on its latest version as it is locked (READ COMMITTED).
	//
	// The batch is the locked rows before a bound. A scan in physical
	// order goes page by page, but within a page it may return a row
	// updated in place (a HOT update) before rows at lower addresses, so
	// the batch ends where every page before it was read whole: before
	// the page where the scan stopped, unless it read every stale row
	// left. A page holds at most block_size/28 rows (291 in 8 kB), so a
	// batch that locks more than that always moves on. And of the rows
	// with a file, at most $4 belong to the batch: it ends before the
	// next one when that one lies in a page read whole. (A row that
	// another session updated during the statement and left stale is
	// locked in its new version, wherever that lies; a batch may then
	// end past pages it did not read, whose stale rows wait for the next
	// run. Nothing goes that is not stale and locked.)
	//
	// It deletes the batch's rows without a file at once, in the same
	// statement, which the transaction commits only after the caller's
	// Prepare: nothing else needs them. It returns one summary row (kind
	// 0: how many rows it locked, how many of them with a file, the
	// bound, how many rows without a file it locked before the bound, and
	// pgDeletedInTx before its DELETE, which reads that first) and the
	// batch's rows with a file (kind 1), which stay locked for the
	// caller. A locked row after the bound stays too, for the next batch.
	// The statement does not count what it deleted (RETURNING would cost
	// a tenth of its time): pgDeletedInTx after it, less before, does.
	//
	// The rows are gathered into arrays, not kept as a table of rows: an
	// array of 100k addresses is 600 kB, where a materialized row set
	// spills to disk past work_mem. A row found by its address (a TID
	// scan) costs about half of looking its id up again in the primary
	// key, and no one else can move a row while this transaction holds it.
	pgLockBatch = `WITH lim AS (SELECT greatest($3::int, current_setting('block_size')::int / 28 + 1) AS n),
locked AS MATERIALIZED (
SELECT count(*) AS n, max(ctid) AS last,
  array_agg(ctid) FILTER (WHERE stl_file = '') AS fileless,
  array_agg(ctid ORDER BY ctid) FILTER (WHERE stl_file <> '') AS files
FROM (SELECT ctid, stl_file FROM ` + Table + ` WHERE ctid > $2 AND ` + stalePredicate("$1") + `
  LIMIT (SELECT n FROM lim) FOR UPDATE SKIP LOCKED) AS l),
batch AS MATERIALIZED (
SELECT n, cardinality(files) AS nf, fileless, files, CASE
  WHEN n < (SELECT n FROM lim) THEN files[$4 + 1]
  WHEN (files[$4 + 1]::text::point)[0] < (last::text::point)[0] THEN files[$4 + 1]
  ELSE format('(%s,0)', (last::text::point)[0])::tid
END AS bound FROM locked),
before AS MATERIALIZED (SELECT ` + pgDeletedInTx + ` AS n),
gone AS (
DELETE FROM ` + Table + ` WHERE ctid = ANY((SELECT fileless FROM batch)::tid[])
  AND ctid < COALESCE((SELECT bound FROM batch), '(4294967295,65535)') AND (SELECT n FROM before) >= 0)
SELECT 0 AS kind, n, nf, bound, CASE WHEN bound IS NULL THEN coalesce(cardinality(fileless), 0)
  ELSE (SELECT count(*) FROM unnest(fileless) AS f WHERE f < bound) END, (SELECT n FROM before), NULL::tid, NULL::bigint, NULL, NULL, NULL FROM batch
UNION ALL
SELECT 1, NULL, NULL, NULL, NULL, NULL, ctid, id, slug, status, stl_file FROM ` + Table + `
WHERE ctid = ANY((SELECT files FROM batch)::tid[])
  AND ctid < COALESCE((SELECT bound FROM batch), '(4294967295,65535)')`

	// pgDeleted reads pgDeletedInTx, and whether it counts (track_counts,
	// on unless a superuser turned it off).
	pgDeleted = `SELECT ` + pgDeletedInTx + `, current_setting('track_counts')::bool`

	// pgDeleteAt deletes the rows at the addresses in $1: the batch's rows
	// with a file that the caller let go, which this transaction holds
	// locked since pgLockBatch.
	pgDeleteAt = `DELETE FROM ` + Table + ` WHERE ctid = ANY($1::tid[])`
)

// pgDeletedInTx counts the rows deleted from the table by this session,
// from its own statistics: in this transaction, and in earlier ones whose
// counts it has not passed on yet, hence a difference of two readings.
// The rows without a file that pgLockBatch deleted may be fewer than it
// locked: a row that another session updated after the statement began,
// leaving it stale, is locked in its new version, which the statement's
// DELETE cannot see; that row stays, until the next run.
const pgDeletedInTx = `pg_stat_get_xact_tuples_deleted('` + Table + `'::regclass)`

// DeleteBatch deletes the next batch of stale rows (see protocol.DB) in
// one transaction: it locks the batch and deletes its rows without a file
// in one statement, hands the rows with a file to req.Prepare while they
// stay locked, and then deletes those that Prepare let go. A locked row
// cannot change until the commit, so each goes with the file that
// Prepare saw.
//
// req.After and the End it returns are row addresses in the table's
// physical order (see pgLockBatch), and req.Size rows of each stale
// status make a batch of Size times as many rows in all.
func (d *pgDB) DeleteBatch(ctx context.Context, req protocol.Request) (protocol.Deleted, error) {
	if d.readOnly {
		return protocol.Deleted{}, fmt.Errorf("delete: database opened read-only")
	}
	var del protocol.Deleted
	err := writeTx(ctx, d.db, &del.LockHeld, commitError, func(ctx context.Context, tx *sql.Tx) error {
		b, err := lockBatch(ctx, tx, d.timeArg(req.Cutoff), req)
		if err != nil {
			return err
		}
		if b.fileless > 0 {
			var n int64
			var counts bool
			if err := tx.QueryRowContext(ctx, pgDeleted).Scan(&n, &counts); err != nil {
				return fmt.Errorf("count deleted rows: %w", err)
			}
			if counts {
				b.fileless = n - b.deletedBefore
			}
		}
		del.Fileless, del.End, del.Fit = b.fileless, b.end, b.fit
		files := b.files
		if req.Prepare != nil {
			p, err := req.Prepare(ctx, b.submissions())
			if err != nil {
				return err
			}
			if files, err = b.pick(p.Files); err != nil {
				return err
			}
		}
		if err := deleteAt(ctx, tx, files); err != nil {
			return err
		}
		for _, f := range files {
			del.Rows = append(del.Rows, f.Submission)
		}
		sortByID(del.Rows)
		return nil
	})
	if err != nil {
		return protocol.Deleted{LockHeld: del.LockHeld}, err
	}
	return del, nil
}

// pgBatch is what pgLockBatch locked and did.
type pgBatch struct {
	files    []lockedFile // the batch's rows with a file, locked, in id order
	fileless int64        // the batch's rows without a file, locked and deleted
	// deletedBefore is pgDeletedInTx before pgLockBatch deleted them.
	deletedBefore int64
	end           int64 // the batch's end, as an address (see encodeTID)
	fit           int   // protocol.Deleted's Fit
}

// lockedFile is a row with a file that the transaction holds locked.
type lockedFile struct {
	protocol.Submission
	at pgtype.TID
}

// lockBatch runs pgLockBatch for req.
func lockBatch(ctx context.Context, tx *sql.Tx, cutoff any, req protocol.Request) (pgBatch, error) {
	limit := max(1, req.Size) * len(staleStatuses)
	// One row with a file at least, so that a batch that ends at its
	// rows with a file moves on.
	maxFiles := max(1, req.MaxFiles)
	rows, err := tx.QueryContext(ctx, pgLockBatch, cutoff, decodeTID(req.After), limit, maxFiles)
	if err != nil {
		return pgBatch{}, fmt.Errorf("lock batch: %w", err)
	}
	defer rows.Close()
	var b pgBatch
	var n, nf int64
	var bound pgtype.TID
	for rows.Next() {
		var kind int
		var count, withFile, gone, before, id sql.NullInt64
		var end pgtype.TID
		var f lockedFile
		var slug, status, file sql.NullString
		if err := rows.Scan(&kind, &count, &withFile, &end, &gone, &before, &f.at, &id, &slug, &status, &file); err != nil {
			return pgBatch{}, fmt.Errorf("lock batch: read row: %w", err)
		}
		if kind == 0 {
			n, nf, bound, b.fileless, b.deletedBefore = count.Int64, withFile.Int64, end, gone.Int64, before.Int64
			continue
		}
		f.Submission = protocol.Submission{ID: id.Int64, Slug: slug.String, Status: status.String, File: file.String}
		b.files = append(b.files, f)
	}
	if err := rows.Err(); err != nil {
		return pgBatch{}, fmt.Errorf("lock batch: %w", err)
	}
	slices.SortFunc(b.files, func(a, b lockedFile) int { return cmp.Compare(a.ID, b.ID) })
	b.end = protocol.NoEnd
	if bound.Valid {
		b.end = encodeTID(bound) - 1
	}
	if nf > 0 {
		// The Size that would lock about maxFiles rows with a file, at
		// this batch's share of them (see protocol.Deleted's Fit).
		b.fit = int(min(int64(maxFiles)*n/nf/int64(len(staleStatuses)), 1<<30))
	}
	return b, nil
}

// submissions returns the batch's rows with a file, for Prepare.
func (b pgBatch) submissions() []protocol.Submission {
	out := make([]protocol.Submission, len(b.files))
	for i, f := range b.files {
		out[i] = f.Submission
	}
	return out
}

// pick returns the batch's rows that are in let, which Prepare returned.
// A row that the batch did not lock, or with another file than it has,
// is the caller's error: nothing is deleted.
func (b pgBatch) pick(let []protocol.Submission) ([]lockedFile, error) {
	byID := make(map[int64]lockedFile, len(b.files))
	for _, f := range b.files {
		byID[f.ID] = f
	}
	out := make([]lockedFile, 0, len(let))
	for _, s := range let {
		f, ok := byID[s.ID]
		if !ok || f.File != s.File {
			return nil, fmt.Errorf("delete: prepare let go row %s (%q), which the batch does not hold", s.Slug, s.File)
		}
		out = append(out, f)
	}
	return out, nil
}

// deleteAt deletes the locked rows files, each of which must go: no one
// else can have changed or deleted a row that this transaction holds.
func deleteAt(ctx context.Context, tx *sql.Tx, files []lockedFile) error {
	if len(files) == 0 {
		return nil
	}
	at := make([]pgtype.TID, len(files))
	for i, f := range files {
		at[i] = f.at
	}
	res, err := tx.ExecContext(ctx, pgDeleteAt, at)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if n != int64(len(files)) {
		return fmt.Errorf("delete: %d of %d locked rows deleted", n, len(files))
	}
	return nil
}

// encodeTID turns a row address into a batch end: the block number
// above, the line pointer below, so that the order of the ends is the
// order of the addresses. A batch that ends before address a ends at
// encodeTID(a)-1: (b, 0)-1 is (b-1, 65535), after every row of page b-1.
func encodeTID(t pgtype.TID) int64 {
	return int64(t.BlockNumber)<<16 | int64(t.OffsetNumber)
}

// decodeTID is encodeTID's inverse. 0, where a run starts, is (0,0),
// before the first row.
func decodeTID(end int64) pgtype.TID {
	return pgtype.TID{BlockNumber: uint32(end >> 16), OffsetNumber: uint16(end & 0xffff), Valid: true}
}

// ReadAhead does nothing: a batch is read inside its own transaction, as
// it locks its rows (see DeleteBatch), and a run does not pause.
func (d *pgDB) ReadAhead(context.Context, protocol.Request) {}
