// Package cleanup is the job itself: it joins the database (package store)
// and the uploads (package fs) in the order that keeps them consistent
// whatever crashes (docs/design.md, The protocol). Run is a real run,
// Preview a dry run, Sweep the orphan sweep; the Journal lists the files
// whose rows are gone until they are removed.
package cleanup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// Defaults that keep the web app responsive during a big cleanup (see the
// README's Performance section). A write transaction aims at
// DefaultTxTarget; DefaultPause after it is long enough for a writer that
// polls with SQLite's busy handler (sleeps of 1, 2, 5, 10, 15, 20, 25, 25
// ms ...) to find the lock free before it has waited 100 ms.
const (
	DefaultTxTarget  = 50 * time.Millisecond
	DefaultPause     = 25 * time.Millisecond
	DefaultBatchSize = 1000
	DefaultWorkers   = 8
	// DefaultLockShare is the largest share of its time that a run holds
	// the lock while it works through rows with files. Such a run takes as
	// long as its files take to remove anyway, so spreading its
	// transactions over that time costs little; and a web app that begins
	// its transactions DEFERRED (Django's default) fails a request that
	// writes while the lock is held, so fewer of its requests fail.
	DefaultLockShare = 0.08
)

// Bounds of the adaptive batch size, in rows of each stale status.
const (
	minBatch = 50
	maxBatch = 50000
)

// maxFilesPerBatch bounds the rows with a file in one batch: they are held
// in memory, written to the journal, and removed before the next batch
// but one.
const maxFilesPerBatch = 5000

// Options tunes a run. The zero value of each field means its default,
// except Pause, where zero means no pause (the command line's default is
// DefaultPause).
type Options struct {
	TTLHours int
	Now      time.Time
	// BatchSize is how many rows of each stale status the first write
	// transaction takes. Later ones grow or shrink it so that each takes
	// about TxTarget.
	BatchSize int
	TxTarget  time.Duration
	// Pause is how long the run leaves the write lock to others between
	// transactions; zero for none.
	Pause time.Duration
	// Workers is how many files are removed at once.
	Workers int
	// LockShare caps the share of the time that the run holds the lock
	// while batches have files: after such a batch, the pause lasts at
	// least long enough to keep the share of lock time down to it. 1
	// means no cap.
	LockShare float64
	// Log receives one line per row or file left behind. Nil discards.
	Log *slog.Logger
	// Progress, if set, is called after each committed batch.
	Progress func(r *Report)
}

func (o Options) withDefaults() Options {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.TxTarget <= 0 {
		o.TxTarget = DefaultTxTarget
	}
	o.Pause = max(o.Pause, 0)
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.LockShare <= 0 || o.LockShare > 1 {
		o.LockShare = DefaultLockShare
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Run deletes the stale submissions and their files. It first finishes
// what an interrupted run left in the journal, then works through the
// stale rows in batches by id, each batch in this order:
//
//  1. read the batch's stale rows, without the write lock;
//  2. keep every row whose file could not be removed now (fs.Check);
//  3. write the other rows' files into the journal, and fsync;
//  4. delete the rows that are still stale, in one short write
//     transaction (DeleteBatch), which also reads which of their files
//     another row still uses;
//  5. after the commit, outside the lock, remove the deleted rows' files
//     that no other row uses, while the run pauses for the web app; then
//     mark the batch done in the journal.
//
// So a row that is still in the database always has its file, and a file
// whose row is gone is listed in the journal until it is removed. Run
// stops between two batches when ctx is done; a transaction once begun
// runs to its commit, and the files of committed batches are removed.
//
// An error means the run itself failed (the lock not obtained in time, a
// broken database, a journal that cannot be written). Rows and files left
// behind are not errors; they are Report.Failures.
func Run(ctx context.Context, db store.DB, media afero.Fs, j *Journal, opt Options) (*Report, error) {
	opt = opt.withDefaults()
	pdb, err := batches(db)
	if err != nil {
		return &Report{Failures: []Failure{}}, err
	}
	r := &runner{db: pdb, media: media, journal: j, opt: opt, size: opt.BatchSize,
		rep: &Report{TTLHours: opt.TTLHours, Cutoff: Cutoff(opt.Now, opt.TTLHours), Failures: []Failure{}}}
	if err := r.finishJournal(ctx); err != nil {
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
		// And the batch is read just before its transaction, so that the
		// transaction is likelier to find it unchanged (see DeleteBatch).
		err := r.finish(removing)
		if removing = nil; err != nil {
			return r.rep, err
		}
		b, err := pdb.NextBatch(ctx, r.rep.Cutoff, after, r.size, maxFilesPerBatch)
		if err != nil {
			return r.rep, err
		}
		b.Files = r.keepUnremovable(b.Files)
		del, seq, err := r.deleteBatch(ctx, b)
		if errors.Is(err, protocol.ErrBatchChanged) {
			continue // the web app changed a row meanwhile: read the batch again
		}
		if err != nil {
			return r.rep, err
		}
		removing = r.remove(seq, del)
		if opt.Progress != nil {
			opt.Progress(r.rep)
		}
		if b.End == protocol.NoEnd {
			err, removing = r.finish(removing), nil
			return r.rep, err
		}
		after = b.End
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
	sharing *sharing // nil until a batch first meets a file
}

// deleteBatch journals b's files, then deletes its rows that are still
// stale. seq is the journal batch, 0 when b has no file.
func (r *runner) deleteBatch(ctx context.Context, b protocol.Batch) (del protocol.Deleted, seq int64, err error) {
	var others protocol.Others
	if len(b.Files) > 0 {
		if r.sharing == nil {
			keys := fs.NewKeys(r.media)
			r.sharing, err = loadSharing(ctx, r.db, keys)
			if keys.Close(); err != nil {
				return del, 0, err
			}
		}
		files := make([]string, len(b.Files))
		for i, s := range b.Files {
			files[i] = s.File
		}
		if seq, err = r.journal.Add(files); err != nil {
			return del, 0, err
		}
		others.After = r.sharing.maxID
		if len(r.sharing.suspects) > 0 {
			keys := fs.NewKeys(r.media)
			others.IDs = r.sharing.suspectsFor(keys, files)
			keys.Close()
		}
	}
	del, err = r.db.DeleteBatch(ctx, r.rep.Cutoff, b, others)
	r.rep.addLockHeld(del.LockHeld)
	if err != nil {
		if seq != 0 && !errors.Is(err, protocol.ErrCommitUnknown) {
			// Nothing was deleted: the batch's files are not pending.
			if jerr := r.journal.Finish(nil, seq); jerr != nil {
				r.opt.Log.Warn("cannot mark a batch that deleted nothing done in the journal", "error", jerr)
			}
		}
		return del, seq, err
	}
	r.rep.Stale += del.Fileless + int64(len(del.Rows))
	r.rep.Deleted += del.Fileless + int64(len(del.Rows))
	r.adapt(del.LockHeld)
	return del, seq, nil
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
			r.opt.Log.Error("cannot remove file; row kept", "slug", s.Slug, "path", s.File, "error", err)
			r.rep.Stale++
			r.rep.addFailure(Failure{Slug: s.Slug, Path: s.File, Error: err.Error()})
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

// batches returns db's side of the batch protocol, which every database
// that store.Open and store.OpenDSN return has.
func batches(db store.DB) (protocol.DB, error) {
	if p, ok := db.(protocol.DB); ok {
		return p, nil
	}
	return nil, fmt.Errorf("cleanup: %T was not opened by store.Open or store.OpenDSN", db)
}
