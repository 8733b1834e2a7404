package cleanup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// rowLocksTxScale is how many times TxTarget a transaction aims at where
// it locks only its own rows (PostgreSQL): the web app waits for it only
// if it writes one of the batch's stale rows, and then no longer than the
// transaction, so fewer, longer transactions cost it nothing, and spare
// the run a commit and a plan per batch.
const rowLocksTxScale = 10

// Run deletes the stale submissions and their files. It first finishes
// what is due in the journal (files whose rows have been gone for the file
// grace, and that no row references now), then works through the stale
// rows in batches, each batch in this order:
//
//  1. read the batch's stale rows (see protocol.DB's DeleteBatch for
//     where, with which locks);
//  2. keep every row whose file could not be removed now (fs.Check);
//  3. write the other rows' files into the journal, and fsync;
//  4. delete the rows that are still stale, in one short write
//     transaction (which, when files go at once, also reads which of
//     their files another row still uses);
//  5. after the commit: with a file grace, note in the journal when the
//     rows went, and leave their files to the first run after the grace;
//     without one, remove the deleted rows' files that no other row uses,
//     outside the lock, while the run pauses for the web app, then mark
//     the batch done.
//
// So a row that is still in the database always has its file, and a file
// whose row is gone is listed in the journal until it is removed. Run
// stops between two batches when ctx is done; a transaction once begun
// runs to its commit, and the files of committed batches are removed.
//
// An error means the run itself failed (the lock not obtained in time, a
// broken database, a journal that cannot be written, options that make no
// sense: ErrOptions). Rows and files left behind are not errors; they are
// Report.Failures.
func Run(ctx context.Context, db store.DB, media afero.Fs, j *Journal, opt Options) (*Report, error) {
	opt, err := opt.resolve()
	if err != nil {
		return &Report{Failures: []Failure{}}, err
	}
	pdb, err := batches(db)
	if err == nil {
		err = usable(media, j)
	}
	if err != nil {
		return &Report{Failures: []Failure{}}, err
	}
	if !pdb.LocksWholeDatabase() {
		opt.TxTarget *= rowLocksTxScale
	}
	r := &runner{db: pdb, media: media, journal: j, opt: opt, size: opt.BatchSize,
		rep: &Report{TTLHours: opt.TTLHours, Cutoff: Cutoff(opt.Now, opt.TTLHours), Failures: []Failure{}}}
	defer func() { r.noteCut(); r.noteWaiting(r.journal.now()) }()
	if err := r.finishDue(ctx); err != nil {
		return r.rep, err
	}
	if err := r.readSharing(ctx); err != nil {
		return r.rep, err
	}
	var removing *removal                 // the previous batch's files, going
	defer func() { r.finish(removing) }() // an early return still removes committed files
	for after := int64(0); ; {
		if err := ctx.Err(); err != nil {
			return r.rep, err
		}
		// The previous batch's files are gone before this batch's
		// transaction begins: removals compete with the transaction for
		// the CPU and the disk, and would make it hold the lock longer.
		// Where a transaction locks only its own rows (PostgreSQL), that
		// costs the web app nothing, and they go while it runs.
		overlap := !r.db.LocksWholeDatabase()
		if !overlap {
			err := r.finish(removing)
			if removing = nil; err != nil {
				return r.rep, err
			}
		}
		r.batch = attempt{} // what Prepare will know of this batch
		del, err := r.db.DeleteBatch(ctx, protocol.Request{Cutoff: r.rep.Cutoff, After: after,
			Size: r.size, MaxFiles: maxFilesPerBatch, Prepare: r.prepare})
		if overlap {
			ferr := r.finish(removing)
			if removing = nil; ferr != nil {
				return r.rep, ferr
			}
		}
		r.rep.addLockHeld(del.LockHeld)
		if err != nil {
			r.abandon(err)
			if errors.Is(err, protocol.ErrBatchChanged) {
				continue // the web app changed a row meanwhile: read the batch again
			}
			return r.rep, err
		}
		if removing, err = r.committed(del); err != nil {
			return r.rep, err
		}
		if opt.Progress != nil {
			opt.Progress(r.rep)
		}
		if del.End == protocol.NoEnd {
			err, removing = r.finish(removing), nil
			return r.rep, err
		}
		after = del.End
		r.pause(ctx, del)
	}
}

type runner struct {
	db      protocol.DB
	media   afero.Fs
	journal *Journal
	opt     Options
	rep     *Report
	size    int      // rows of each status per batch; adapts to TxTarget
	sharing *sharing // the rows that may share a file; nil when no stale row had one
	batch   attempt  // the batch being deleted
	cut     int64    // removals that a stop cut short
}

// attempt is what the run knows of the batch it is deleting, from its
// Prepare on.
type attempt struct {
	seq   int64     // its journal batch; 0 when it has no file to remove
	files int       // the files that its journal batch lists
	kept  []Failure // its rows kept because their file cannot be removed
}

// readSharing reads, once per run, which rows may share a file, if the run
// removes files right after their rows' commit and a stale row has a file
// at all: the run must keep every file that a remaining row still uses.
// With a file grace, files wait in the journal, and the run that removes
// them checks every row then.
func (r *runner) readSharing(ctx context.Context) error {
	if r.opt.FileGrace > 0 {
		return nil
	}
	any, err := r.db.AnyStaleFile(ctx, r.rep.Cutoff)
	if err != nil || !any {
		return err
	}
	keys := fs.NewKeys(r.media)
	defer keys.Close()
	r.sharing, err = loadSharing(ctx, r.db, keys, r.spill())
	return err
}

// prepare is the batch's protocol.Request.Prepare: it keeps the rows whose
// file cannot be removed now, and journals the files of the others, with
// an fsync, before any of their rows can go.
func (r *runner) prepare(_ context.Context, files []store.Submission) (protocol.Prepared, error) {
	files = r.keepUnremovable(files)
	if len(files) == 0 {
		return protocol.Prepared{}, nil
	}
	if r.opt.FileGrace == 0 && r.sharing == nil {
		// No stale row had a file when the run began, so it did not read
		// which rows share files; a row that went stale since waits for
		// the next run.
		return protocol.Prepared{}, nil
	}
	paths := make([]string, len(files))
	for i, s := range files {
		paths[i] = s.File
	}
	seq, err := r.journal.record(paths)
	if err != nil {
		return protocol.Prepared{}, err
	}
	r.batch.seq, r.batch.files = seq, len(paths)
	if r.opt.FileGrace > 0 {
		return protocol.Prepared{Files: files}, nil
	}
	others := protocol.Others{After: r.sharing.maxID, ReadNew: true}
	if len(r.sharing.suspects) > 0 {
		keys := fs.NewKeys(r.media)
		others.IDs = r.sharing.suspectsFor(keys, paths)
		keys.Close()
	}
	return protocol.Prepared{Files: files, Others: others}, nil
}

// committed counts what a batch's transaction deleted, and the rows it
// kept because their file cannot be removed, and sizes the next batch.
// Then the batch's files wait in the journal for their grace, or, without
// one, start going (the removal returned).
func (r *runner) committed(del protocol.Deleted) (*removal, error) {
	r.reportKept()
	r.rep.Stale += del.Fileless + int64(len(del.Rows))
	r.rep.Deleted += del.Fileless + int64(len(del.Rows))
	r.adapt(del.LockHeld)
	if del.Fit > 0 {
		r.size = max(minBatch, min(r.size, del.Fit))
	}
	seq := r.batch.seq
	switch {
	case seq == 0:
		return nil, nil
	case r.opt.FileGrace > 0 && len(del.Rows) < r.batch.files:
		// Some rows stayed (locked by the web app, or not stale any more):
		// their files do not wait. The batch is listed again with only the
		// deleted rows' files, gone now, so that what waits is what went.
		files := make([]string, len(del.Rows))
		for i, s := range del.Rows {
			files[i] = s.File
		}
		return nil, r.journal.finishBatches(files, seq)
	case r.opt.FileGrace > 0:
		return nil, r.journal.markGone(seq)
	default:
		return r.remove(seq, del), nil
	}
}

// abandon records a batch whose transaction deleted nothing: its files
// are not pending. Its rows kept for their file are reported, unless the
// batch will be read again. A commit whose outcome is unknown leaves the
// batch listed, for the next run to check.
func (r *runner) abandon(err error) {
	if !errors.Is(err, protocol.ErrBatchChanged) {
		r.reportKept()
	}
	if r.batch.seq != 0 && !errors.Is(err, protocol.ErrCommitUnknown) {
		if jerr := r.journal.finishBatches(nil, r.batch.seq); jerr != nil {
			r.opt.Log.Warn("cannot mark a batch that deleted nothing done in the journal", "error", jerr)
		}
	}
	r.batch = attempt{}
}

// reportKept reports the rows of the batch kept for their file, once the
// batch will not be read again.
func (r *runner) reportKept() {
	for _, f := range r.batch.kept {
		r.opt.Log.Error("cannot remove file; row kept", "slug", f.Slug, "path", f.Path, "error", f.Error)
		r.rep.Stale++
		r.rep.addFailure(f)
	}
}

// keepUnremovable returns the rows whose file a removal would not fail on
// now. Each of the others is a failure: it keeps its row, so that a row
// whose file cannot go stays whole, and the next run retries it.
func (r *runner) keepUnremovable(rows []store.Submission) []store.Submission {
	names := make([]string, len(rows))
	for i, s := range rows {
		names[i] = s.File
	}
	ok := rows[:0:0]
	for i, err := range fs.CheckMany(r.media, names) {
		s := rows[i]
		if err != nil {
			r.batch.kept = append(r.batch.kept, Failure{Slug: s.Slug, Path: s.File, Error: err.Error()})
			continue
		}
		ok = append(ok, s)
	}
	return ok
}

// pause leaves the database to the web app between two transactions: for
// Pause, and after a batch with files, for long enough that the lock is
// held at most LockShare of the time. A database whose transactions lock
// only their own rows (PostgreSQL) needs no pause.
func (r *runner) pause(ctx context.Context, del protocol.Deleted) {
	if !r.db.LocksWholeDatabase() {
		return
	}
	d := r.opt.Pause
	if len(del.Rows) > 0 {
		d = max(d, time.Duration(float64(del.LockHeld)*(1-r.opt.LockShare)/r.opt.LockShare))
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// adapt sizes the next batch so that its transaction takes about TxTarget,
// whatever the disk, the row size and the share of rows with files. It
// shrinks at once when a transaction ran long, and grows at most fourfold
// at a time, so that one fast batch cannot make the next one huge.
func (r *runner) adapt(took time.Duration) {
	next := r.size * 4
	if took > 0 {
		next = int(float64(r.size) * float64(r.opt.TxTarget) / float64(took))
	}
	r.size = max(minBatch, min(next, r.size*4, maxBatch))
}

// usable fails unless media is a file system and j a journal that
// OpenJournal opened.
func usable(media afero.Fs, j *Journal) error {
	switch {
	case media == nil:
		return fmt.Errorf("%w: no media file system", ErrOptions)
	case j.opened() != nil:
		return fmt.Errorf("%w: no journal (open one with OpenJournal)", ErrOptions)
	}
	return nil
}

// batches returns db's side of the batch protocol, which every database
// that store.Open and store.OpenDSN return has.
func batches(db store.DB) (protocol.DB, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: no database", ErrOptions)
	}
	if p, ok := db.(protocol.DB); ok {
		return p, nil
	}
	return nil, fmt.Errorf("cleanup: %T was not opened by store.Open or store.OpenDSN", db)
}
