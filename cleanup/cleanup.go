package cleanup

import (
	"context"
	"errors"
	"log/slog"
	"path"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/store"
)

// Defaults that meet SPEC §4.8 and §5 together. A write transaction aims at
// DefaultTxTarget; DefaultPause after it is long enough for a writer that
// polls with SQLite's busy handler (sleeps of 1, 2, 5, 10, 15, 20, 25, 25
// ms ...) to find the lock free before it has waited 100 ms.
const (
	DefaultTxTarget  = 40 * time.Millisecond
	DefaultPause     = 25 * time.Millisecond
	DefaultBatchSize = 1000
	DefaultWorkers   = 8
)

// Bounds of the adaptive batch size.
const (
	minBatch = 50
	maxBatch = 50000
)

// Options tunes a run. The zero value of each field means its default.
type Options struct {
	TTLHours int
	Now      time.Time
	// BatchSize is how many rows of each stale status the first write
	// transaction takes. Later ones grow or shrink it so that each takes
	// about TxTarget.
	BatchSize int
	TxTarget  time.Duration
	// Pause is how long the run leaves the write lock to others between
	// transactions.
	Pause time.Duration
	// Workers is how many files are removed at once within a batch.
	Workers int
	// Log receives one line per row left behind. Nil discards.
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
	if o.Pause <= 0 {
		o.Pause = DefaultPause
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// errNeedRefs makes a batch roll back, to scan for shared files first. The
// scan is a long read that must not run under the write lock.
var errNeedRefs = errors.New("shared-file scan needed")

// Run deletes the stale submissions and their files, in short write
// transactions over consecutive id ranges, and yields the lock between
// them. It stops between two transactions when ctx is done; a transaction
// once begun runs to its commit.
//
// An error means the run itself failed (a lock not obtained in time, a
// broken database). Rows left behind because of their files are not
// errors; they are Report.Failures.
func Run(ctx context.Context, db *store.DB, media afero.Fs, opt Options) (*Report, error) {
	opt = opt.withDefaults()
	r := &runner{db: db, media: media, opt: opt, size: opt.BatchSize,
		rep: &Report{TTLHours: opt.TTLHours, Cutoff: Cutoff(opt.Now, opt.TTLHours), Failures: []Failure{}}}
	var after int64
	for {
		if err := ctx.Err(); err != nil {
			return r.rep, err
		}
		end, err := r.batch(ctx, after)
		if errors.Is(err, errNeedRefs) {
			if r.refs, err = loadFileRefs(ctx, db); err == nil {
				continue
			}
		}
		if err != nil {
			return r.rep, err
		}
		if opt.Progress != nil {
			opt.Progress(r.rep)
		}
		if end == store.NoEnd {
			return r.rep, nil
		}
		after = end
		time.Sleep(opt.Pause) // let the web app in (SPEC §4.8)
	}
}

type runner struct {
	db    *store.DB
	media afero.Fs
	opt   Options
	rep   *Report
	size  int       // rows of each status per batch; adapts to TxTarget
	refs  *fileRefs // nil until a batch first meets a file
}

// batch is SPEC §4 in order, in one write transaction over the ids
// (after, end]: find the stale rows, remove their files, delete the rows
// whose files are gone, commit. A crash anywhere before the commit leaves
// stale rows whose files may be gone, which the next run deletes; it never
// leaves a file whose row is gone.
func (r *runner) batch(ctx context.Context, after int64) (end int64, err error) {
	tx, err := r.db.Begin(ctx, r.rep.Cutoff) // BEGIN IMMEDIATE: staleness is judged under the write lock (§4.1)
	if err != nil {
		return after, err
	}
	defer tx.Rollback()
	ctx = context.WithoutCancel(ctx) // begun: run to the commit, whatever signal comes
	start := time.Now()

	if end, err = tx.BatchEnd(ctx, after, r.size); err != nil {
		return after, err
	}
	fileless, err := tx.DeleteFileless(ctx, after, end) // no file, nothing to do first
	if err != nil {
		return after, err
	}
	rows, err := tx.StaleWithFiles(ctx, after, end)
	if err != nil {
		return after, err
	}
	if r.refs == nil && len(rows) > 0 {
		return after, errNeedRefs
	}
	inUse, err := r.filesInUse(ctx, tx, rows) // a file another row still uses stays (§4.4)
	if err != nil {
		return after, err
	}
	gone := r.removeFiles(rows, inUse)   // confined to MEDIA_ROOT (§4.3); failures keep their rows (§4.6)
	deleted, err := tx.Delete(ctx, gone) // only rows whose file is gone (§4.2)
	if err != nil {
		return after, err
	}
	if err := tx.Commit(); err != nil {
		return after, err
	}
	r.rep.Stale += fileless + int64(len(rows))
	r.rep.Deleted += fileless + deleted
	r.adapt(time.Since(start))
	return end, nil
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

// filesInUse returns the files, cleaned, of rows that another row, outside
// this batch, still uses.
func (r *runner) filesInUse(ctx context.Context, tx *store.Tx, rows []store.Submission) (map[string]bool, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	files := make([]string, len(rows))
	ids := make([]int64, len(rows))
	for i, s := range rows {
		files[i], ids[i] = path.Clean(s.File), s.ID
	}
	others, err := tx.FilesOf(ctx, r.refs.suspectsFor(files), r.refs.maxID, ids)
	if err != nil {
		return nil, err
	}
	inUse := map[string]bool{}
	for _, f := range others {
		inUse[path.Clean(f)] = true
	}
	return inUse, nil
}
