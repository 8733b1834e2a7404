package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/afero"
	"github.com/urfave/cli/v2"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// cleanupFlags are the root action's own flags, besides the global ones.
func cleanupFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "dry-run", EnvVars: []string{envPrefix + "DRY_RUN"},
			Usage: "report what would be deleted; open the database and MEDIA_ROOT read-only"},
		&cli.DurationFlag{Name: "every", EnvVars: []string{envPrefix + "EVERY"},
			Usage: "run now, then again every `D` (like 5m), until SIGTERM, SIGINT or SIGHUP"},
		&cli.IntFlag{Name: "batch-size", Value: cleanup.DefaultBatchSize, EnvVars: []string{envPrefix + "BATCH_SIZE"},
			Usage: "`N` rows of each status in the first write transaction; later ones adapt to --tx-target (tuning)"},
		&cli.DurationFlag{Name: "tx-target", Value: cleanup.DefaultTxTarget, EnvVars: []string{envPrefix + "TX_TARGET"},
			Usage: "aim for write transactions of `D`, holding the web app's lock that long at most; ten times that on PostgreSQL, which locks only the batch's rows (tuning)"},
		&cli.DurationFlag{Name: "pause", Value: cleanup.DefaultPause, EnvVars: []string{envPrefix + "PAUSE"},
			Usage: "leave the database to the web app for `D` between transactions (tuning)"},
		&cli.IntFlag{Name: "workers", Value: cleanup.DefaultWorkers, EnvVars: []string{envPrefix + "WORKERS"},
			Usage: "remove up to `N` files at once (tuning)"},
		&cli.Float64Flag{Name: "lock-share", Value: cleanup.DefaultLockShare, EnvVars: []string{envPrefix + "LOCK_SHARE"},
			Usage: "while rows have files to remove, hold the database's lock at most this `SHARE` of the time, 1 for no cap (tuning)"},
	}
}

// cleanupJob is the root action: the cleanup, once or in a loop.
type cleanupJob struct {
	cfg    config
	dryRun bool
	opt    cleanup.Options
	out    printer
	log    *slog.Logger
	kept   *keptLog // the lines log holds back until the run ends
	errOut progressWriter
	watch  *watcher // nil in a dry run
}

func cleanupAction(c *cli.Context) error {
	cfg, err := commandConfig(c)
	if err != nil {
		return err
	}
	every := c.Duration("every")
	switch {
	case every < 0:
		return usageError{fmt.Errorf("--every %s: must not be negative", every)}
	case every > 0 && every < minEvery:
		return usageError{fmt.Errorf("--every %s: must be at least %s", every, minEvery)}
	case c.Int("batch-size") < 1:
		return usageError{fmt.Errorf("--batch-size %d: must be at least 1", c.Int("batch-size"))}
	case c.Int("workers") < 1:
		return usageError{fmt.Errorf("--workers %d: must be at least 1", c.Int("workers"))}
	case c.Duration("pause") < 0:
		return usageError{fmt.Errorf("--pause %s: must not be negative", c.Duration("pause"))}
	case c.Duration("tx-target") <= 0:
		return usageError{fmt.Errorf("--tx-target %s: must be positive", c.Duration("tx-target"))}
	case !(c.Float64("lock-share") > 0 && c.Float64("lock-share") <= 1):
		return usageError{fmt.Errorf("--lock-share %g: must be more than 0 and at most 1", c.Float64("lock-share"))}
	}
	diskMedia := cfg.mediaRoot
	if fs.IsS3(diskMedia) {
		diskMedia = ""
	}
	log, kept := newRunLogger(c.App.ErrWriter, diskMedia)
	j := &cleanupJob{
		cfg:    cfg,
		dryRun: c.Bool("dry-run"),
		opt: cleanup.Options{
			TTLHours:  cfg.ttlHours,
			BatchSize: c.Int("batch-size"),
			TxTarget:  c.Duration("tx-target"),
			Pause:     noneIfZero(c.Duration("pause")),
			Workers:   c.Int("workers"),
			LockShare: c.Float64("lock-share"),
			FileGrace: noneIfZero(cfg.fileGrace),
			Log:       log,
		},
		out:    newPrinter(c.App.Writer, cfg.json),
		log:    log,
		kept:   kept,
		errOut: progressWriter{w: c.App.ErrWriter},
	}
	if !j.dryRun {
		if err := cfg.notLockingOut(); err != nil {
			return err
		}
	}
	if j.watch, err = newWatcher(c, cfg, every, kept.plain()); err != nil {
		return err
	}
	if every == 0 {
		return j.tick(c.Context)
	}
	return j.loop(c.Context, every)
}

// minEvery is the shortest --every: a shorter one would only spin.
const minEvery = time.Second

// loop is the sidecar loop built in: a run now, then one every interval. A
// failed run is logged and the loop goes on, a configuration error too (a
// database that the web app has not created yet, a volume not mounted
// yet): health and the monitor report it (exit 2), and the first tick
// after it is fixed works. Only the command line's errors end
// the loop, before it starts. A signal ends it with exit 0, and without a
// word about the run it cut short.
func (j *cleanupJob) loop(ctx context.Context, every time.Duration) error {
	err := j.tick(ctx)
	if errors.Is(err, errReaderGone) {
		return err // nobody reads the listings any more
	}
	j.logRunError(ctx, err)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
			if err := j.tick(ctx); errors.Is(err, errReaderGone) {
				return err
			} else {
				j.logRunError(ctx, err)
			}
		}
	}
	return nil
}

func (j *cleanupJob) logRunError(ctx context.Context, err error) {
	if err != nil && ctx.Err() == nil && !errors.Is(err, errLeftBehind) {
		j.log.Error("run failed; retrying at the next tick", "error", oneLine(err))
	}
}

// once is one run: open, clean up (or preview), report.
func (j *cleanupJob) once(ctx context.Context) error {
	defer j.kept.flush(ctx)
	db, err := j.cfg.openDB(ctx, j.dryRun)
	if err != nil {
		return err
	}
	defer db.Close()
	media, closeMedia, err := j.cfg.openMedia(ctx)
	if err != nil {
		return err
	}
	defer closeMedia()

	opt := j.opt
	opt.Now = j.cfg.clock()
	var rep *cleanup.Report
	if j.dryRun {
		rep, err = j.preview(ctx, db, media, opt)
	} else {
		rep, err = j.run(ctx, db, media, opt)
		j.watch.report(rep)
	}
	if errors.Is(err, errReaderGone) && !j.dryRun {
		err = nil // the work is done; only its report found no reader
	}
	if errors.Is(err, cleanup.ErrJournalBusy) {
		j.log.Info("leaving the work to the run that is active", "error", err)
		return nil
	}
	if stopped(ctx, err) {
		// A stop is not a failure. What it cut short, the rows still in
		// the database or the files still in the journal (removals that
		// S3 did not answer within stopGrace), the next run finishes. What
		// the run left behind before it (a file that cannot be removed)
		// still makes it exit 1.
		j.log.Info("stopped by a signal; the next run takes up what is left",
			"deleted", rep.Deleted, "pending_finished", rep.Pending, "files_listed", rep.Waiting, "failed", rep.Failed)
		err = nil
	}
	if err != nil {
		return runError{j.cfg.explain(err)}
	}
	if rep.Failed > 0 {
		return errLeftBehind
	}
	return nil
}

// preview is the dry run: it lists what a real run would delete, and how
// many removals an interrupted run left pending, and writes nothing.
func (j *cleanupJob) preview(ctx context.Context, db store.DB, media afero.Fs, opt cleanup.Options) (*cleanup.Report, error) {
	m, err := j.cfg.media(media)
	if err != nil {
		return &cleanup.Report{}, err
	}
	left, err := j.cfg.journalSummary(db, &m)
	if err != nil {
		return &cleanup.Report{}, err
	}
	rep, err := cleanup.Preview(ctx, db, fs.ReadOnly(media), opt, j.out.listing())
	if err != nil {
		return rep, err
	}
	rep.Pending, rep.Waiting, rep.NextDue = left.Due, left.Waiting, left.NextDue
	if left.Due > 0 {
		j.log.Warn("earlier runs left files whose rows are gone; the next real run removes them", "pending", left.Due)
	}
	j.noteWaiting(rep)
	return rep, j.out.endListing(rep)
}

// noteWaiting says on stderr, in one line, how many files wait in the
// journal for their grace, and from when a run removes them: a run that
// leaves files behind never reads as if all were done.
func (j *cleanupJob) noteWaiting(rep *cleanup.Report) {
	if rep.Waiting == 0 {
		return
	}
	j.log.Info("files whose rows are gone wait in the journal; the first run from next_due on removes them",
		"waiting", rep.Waiting, "file_grace", j.cfg.fileGrace, "next_due", rep.NextDue.UTC().Format(time.RFC3339))
}

// adopt takes into journal the files that journals left under former
// names of db list (see cleanup.Journal.Adopt): an upgrade's, or a
// restore's.
func (j *cleanupJob) adopt(journal *cleanup.Journal, db store.DB, path string) {
	n, err := journal.Adopt(db, j.cfg.stateDir)
	if n > 0 {
		j.log.Info("took the files of a journal left under another name (an upgrade, or a database restored by copy)",
			"files", n, "journal", path)
	}
	if err != nil {
		j.log.Warn("a journal left under another name cannot be taken; its files stay listed there", "error", oneLine(err))
	}
}

// run is a real run: it takes the journal, cleans up, and reports.
func (j *cleanupJob) run(ctx context.Context, db store.DB, media afero.Fs, opt cleanup.Options) (*cleanup.Report, error) {
	path, err := j.cfg.journalPath(db, true)
	if err != nil {
		return &cleanup.Report{}, err
	}
	m, err := j.cfg.media(media)
	if err != nil {
		return &cleanup.Report{}, err
	}
	journal, err := cleanup.OpenJournal(afero.NewOsFs(), path, m)
	if err != nil {
		return &cleanup.Report{}, err
	}
	j.adopt(journal, db, path)
	opt.Progress = j.errOut.progress(ctx, db, opt)
	opt.TempDir = filepath.Dir(path)
	rep, err := cleanup.Run(ctx, db, media, journal, opt)
	if cerr := journal.Close(); err == nil {
		err = cerr
	}
	j.errOut.clear()
	j.noteWaiting(rep)
	if perr := j.out.report(rep); err == nil {
		err = perr
	}
	return rep, err
}
