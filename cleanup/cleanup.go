package cleanup

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
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
// grace), through the removal gate (see gate), then works through the
// stale rows in batches, each batch in this order:
//
//  1. read the batch's stale rows (see protocol.DB's DeleteBatch for
//     where, with which locks);
//  2. note each file's identity, and keep every row whose file could not
//     be removed now (fs.Inspect);
//  3. write the other rows' files, with their identities, into the
//     journal, and fsync;
//  4. delete the rows that are still stale, in one short write
//     transaction;
//  5. after the commit: note in the journal when the rows went; with a
//     file grace, leave their files to the first run after it; without
//     one, take them through the removal gate at once, outside the lock,
//     while the run pauses for the web app, and note what it finished.
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
		gate: &gate{db: pdb, media: media, workers: opt.Workers},
		rep:  &Report{TTLHours: opt.TTLHours, Cutoff: Cutoff(opt.Now, opt.TTLHours), Failures: []Failure{}}}
	defer r.gate.withTree(j, r.opt.Log.Warn)()
	defer func() { r.noteCut(); r.noteWaiting() }()
	if err := r.finishDue(ctx); err != nil {
		return r.rep, err
	}
	var removing *removal // committed batches' files, going
	defer func() {
		// An early return still removes committed batches' files.
		r.finish(removing)
		r.finish(r.startRemoval(ctx))
	}()
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
		del, err := r.db.DeleteBatch(ctx, r.request(after))
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
		if removing, err = r.committed(ctx, del); err != nil {
			return r.rep, err
		}
		if opt.Progress != nil {
			opt.Progress(r.rep)
		}
		if del.End == protocol.NoEnd {
			err, removing = r.finish(removing), nil
			if err == nil {
				err = r.finish(r.startRemoval(ctx))
			}
			return r.rep, err
		}
		after = del.End
		r.pause(ctx, del, r.request(after))
	}
}

// request asks DeleteBatch for the batch after after, at the run's batch
// size.
func (r *runner) request(after int64) protocol.Request {
	return protocol.Request{Cutoff: r.rep.Cutoff, After: after, Size: r.size,
		MaxFiles: maxFilesPerBatch, Prepare: r.prepare}
}

type runner struct {
	db      protocol.DB
	media   afero.Fs
	journal *Journal
	gate    *gate
	opt     Options
	rep     *Report
	size    int     // rows of each status per batch; adapts to TxTarget
	batch   attempt // the batch being deleted
	ready   group   // committed batches whose files wait for the gate (no grace)
	cut     int64   // removals that a stop cut short
}

// attempt is what the run knows of the batch it is deleting, from its
// Prepare on.
type attempt struct {
	seq     int64 // its journal batch; 0 when it has no file to remove
	rows    []store.Submission
	entries []entry   // rows' files, as journaled, by the rows' places
	kept    []Failure // its rows kept because their file cannot be removed
}

// prepare is the batch's protocol.Request.Prepare: it notes each file's
// identity, keeps the rows whose file cannot be removed now, and journals
// the files of the others, with an fsync, before any of their rows can go.
func (r *runner) prepare(ctx context.Context, files []store.Submission) (protocol.Prepared, error) {
	files, entries := r.keepUnremovable(ctx, files)
	if len(files) == 0 {
		return protocol.Prepared{}, nil
	}
	seq, err := r.journal.record(entries)
	if err != nil {
		return protocol.Prepared{}, err
	}
	r.batch.seq, r.batch.rows, r.batch.entries = seq, files, entries
	return protocol.Prepared{Files: files}, nil
}

// committed counts what a batch's transaction deleted, and the rows it
// kept because their file cannot be removed, and sizes the next batch.
// Then the batch's files wait in the journal for their grace, or, without
// one, start through the gate (the removal returned).
func (r *runner) committed(ctx context.Context, del protocol.Deleted) (*removal, error) {
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
	case r.opt.FileGrace > 0 && len(del.Rows) < len(r.batch.entries):
		// Some rows stayed (locked by the web app, or not stale any more):
		// their files do not wait. The deleted rows' files are listed
		// again in a batch of their own, gone now, so that what waits is
		// what went.
		return nil, r.journal.settle(r.deletedEntries(del), r.journal.clock(), map[int64]int64{seq: math.MaxInt64})
	case r.opt.FileGrace > 0:
		return nil, r.journal.markGone(seq)
	}
	// No grace: the files go now, with those of the batches before it,
	// up to maxFilesPerBatch at once: one scan of the table answers for
	// them all. The batch is stamped gone first, so that what a crash
	// leaves of it waits no longer than it must.
	if err := r.journal.markGone(seq); err != nil {
		return nil, err
	}
	r.ready.add(seq, del.Rows, r.deletedEntries(del))
	if len(r.ready.entries) < maxFilesPerBatch {
		return nil, nil
	}
	return r.startRemoval(ctx), nil
}

// deletedEntries returns the journaled files of the rows that del
// deleted.
func (r *runner) deletedEntries(del protocol.Deleted) []entry {
	deleted := make(map[int64]bool, len(del.Rows))
	for _, s := range del.Rows {
		deleted[s.ID] = true
	}
	out := make([]entry, 0, len(del.Rows))
	for i, s := range r.batch.rows {
		if deleted[s.ID] {
			out = append(out, r.batch.entries[i])
		}
	}
	return out
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
		if jerr := r.journal.settle(nil, instant{}, map[int64]int64{r.batch.seq: math.MaxInt64}); jerr != nil {
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
// now, with each file's identity. Each of the others is a failure: it
// keeps its row, so that a row whose file cannot go stays whole, and the
// next run retries it.
func (r *runner) keepUnremovable(ctx context.Context, rows []store.Submission) ([]store.Submission, []entry) {
	names := make([]string, len(rows))
	for i, s := range rows {
		names[i] = s.File
	}
	ok := make([]store.Submission, 0, len(rows))
	entries := make([]entry, 0, len(rows))
	for i, in := range fs.Inspect(ctx, r.media, names) {
		s := rows[i]
		if in.Err != nil {
			r.batch.kept = append(r.batch.kept, Failure{Slug: s.Slug, Path: s.File, Error: in.Err.Error()})
			continue
		}
		ok = append(ok, s)
		entries = append(entries, entry{path: s.File, id: in.ID})
	}
	return ok, entries
}

// pause leaves the database to the web app between two transactions, for
// pauseAfter(del), and reads the next batch, next, during its last Pause
// (protocol.DB's ReadAhead), without a lock: the read then costs the run
// nothing, delays a commit of the web app by no more than the same read
// just before the transaction would, and is as fresh as it can be when a
// lock share makes the pause long.
func (r *runner) pause(ctx context.Context, del protocol.Deleted, next protocol.Request) {
	d := r.pauseAfter(del)
	if d <= 0 || !sleep(ctx, d-r.opt.Pause) {
		return
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		r.db.ReadAhead(ctx, next)
	}()
	sleep(ctx, min(d, r.opt.Pause))
	<-read
}

// sleep waits for d, or until ctx is done, and reports whether it waited
// it out.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pauseAfter is how long the run leaves the database to the web app after
// the batch del: Pause, and after a batch that deleted rows whose files
// are there to remove, long enough that the lock is held at most
// LockShare of the time. Such a run takes as long as its files take to
// go (DefaultLockShare); rows whose files were gone already cost no
// removal, and are paced as rows without a file are. A database whose
// transactions lock only their own rows (PostgreSQL) needs no pause.
func (r *runner) pauseAfter(del protocol.Deleted) time.Duration {
	if !r.db.LocksWholeDatabase() {
		return 0
	}
	d := r.opt.Pause
	if len(del.Rows) > 0 && slices.ContainsFunc(r.batch.entries, func(e entry) bool { return !e.id.IsMissing() }) {
		d = max(d, time.Duration(float64(del.LockHeld)*(1-r.opt.LockShare)/r.opt.LockShare))
	}
	return d
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
