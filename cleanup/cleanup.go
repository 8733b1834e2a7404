package cleanup

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/store"
)

// Defaults that meet SPEC §4.8 and §5 together: a transaction of
// DefaultBatchSize rows stays well under the web app's patience, and
// DefaultPause is long enough for a writer polling with SQLite's busy
// handler to find the lock free.
const (
	DefaultBatchSize = 1000
	DefaultPause     = 30 * time.Millisecond
	DefaultWorkers   = 8
)

// Options tunes a run. The zero value of each field means its default.
type Options struct {
	TTLHours int
	Now      time.Time
	// BatchSize is the most rows one write transaction deletes.
	BatchSize int
	// Pause is how long the run yields the write lock between transactions.
	Pause time.Duration
	// Workers is how many files are removed at once within a batch.
	Workers int
	// Log receives one line per failure. Nil discards.
	Log *slog.Logger
	// Progress, if set, is called after each committed batch.
	Progress func(r *Report)
}

func (o Options) withDefaults() Options {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
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

// errNeedRefs makes a batch step back, with nothing done, to scan for
// shared files first. The scan is a read that must not run while the batch
// holds the write lock.
var errNeedRefs = errors.New("shared-file scan needed")

// Run deletes the stale submissions and their files, a short write
// transaction at a time, and yields between transactions. It stops between
// two transactions when ctx is done; a transaction once begun runs to its
// commit.
//
// An error means the run itself failed (a lock not obtained in time, a
// broken database); rows left behind because of their files are not
// errors, they are Report.Failures.
func Run(ctx context.Context, db *store.DB, media afero.Fs, opt Options) (*Report, error) {
	opt = opt.withDefaults()
	r := &runner{db: db, media: media, opt: opt,
		rep: &Report{TTLHours: opt.TTLHours, Cutoff: Cutoff(opt.Now, opt.TTLHours), Failures: []Failure{}}}
	for _, status := range store.StaleStatuses {
		var after int64
		for more := true; more; {
			if err := ctx.Err(); err != nil {
				return r.rep, err
			}
			var err error
			after, more, err = r.batch(context.WithoutCancel(ctx), status, after)
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
			if more {
				time.Sleep(opt.Pause) // let the web app in (SPEC §4.8)
			}
		}
	}
	return r.rep, nil
}

type runner struct {
	db    *store.DB
	media afero.Fs
	opt   Options
	rep   *Report
	refs  *fileRefs // nil until a batch first meets a file
}

// batch is SPEC §4 in order, in one write transaction: find the stale rows,
// remove their files, delete the rows whose files are gone, commit. A crash
// anywhere before the commit leaves stale rows whose files may be gone,
// which the next run deletes; it never leaves a file without its row.
//
// It returns the last id it looked at, and whether there may be more.
func (r *runner) batch(ctx context.Context, status string, after int64) (last int64, more bool, err error) {
	tx, err := r.db.Begin(ctx, r.rep.Cutoff) // BEGIN IMMEDIATE
	if err != nil {
		return after, false, err
	}
	defer tx.Rollback()

	rows, err := tx.Stale(ctx, status, after, r.opt.BatchSize) // judged under the write lock (§4.1)
	if err != nil || len(rows) == 0 {
		return after, false, err
	}
	if r.refs == nil && anyFile(rows) {
		return after, true, errNeedRefs
	}
	inUse, err := r.filesInUse(ctx, tx, rows) // a file another row still uses stays (§4.4)
	if err != nil {
		return after, false, err
	}
	gone := r.removeFiles(rows, inUse) // confined to MEDIA_ROOT (§4.3); failures keep their rows (§4.6)
	n, err := tx.Delete(ctx, gone)     // only rows whose file is gone (§4.2)
	if err != nil {
		return after, false, err
	}
	if err := tx.Commit(); err != nil {
		return after, false, err
	}
	r.rep.Stale += int64(len(rows))
	r.rep.Deleted += n
	return rows[len(rows)-1].ID, len(rows) == r.opt.BatchSize, nil
}

// filesInUse returns the files of rows that another row, outside this
// batch, still uses.
func (r *runner) filesInUse(ctx context.Context, tx *store.Tx, rows []store.Submission) (map[string]bool, error) {
	var files []string
	ids := make([]int64, len(rows))
	for i, s := range rows {
		ids[i] = s.ID
		if s.File != "" {
			files = append(files, s.File)
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	return tx.FilesInUse(ctx, files, r.refs.suspectsFor(files), r.refs.maxID, ids)
}

func anyFile(rows []store.Submission) bool {
	for _, s := range rows {
		if s.File != "" {
			return true
		}
	}
	return false
}
