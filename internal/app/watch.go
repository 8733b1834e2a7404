package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// watchFlags are the root action's flags for the ones watching it.
func watchFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "ping-url", EnvVars: []string{envPrefix + "PING_URL"},
			Usage: "tell a healthchecks.io-style monitor about every real run: `URL`/start, then URL or URL/STATUS (never printed: it holds a secret)"},
	}
}

// watcher is what a real run tells the ones watching it (docs/operating.md,
// Monitoring): it records the run's start and end in the health state
// file, for `cleanup-stale health`, and tells the monitor behind
// --ping-url, if any. A dry run has no watcher: it tells nobody anything
// and writes nothing.
type watcher struct {
	cfg   config
	every time.Duration
	ping  *pinger // nil without --ping-url
	log   *slog.Logger
	now   func() time.Time

	// The run in progress.
	path   string    // its state file, once its database is open
	state  *runState // what it writes there
	exists bool      // whether there was a state file when it started
	rep    *cleanup.Report
}

// newWatcher checks --ping-url (in a dry run too, so that a bad one is
// found before the real run) and returns the watcher of a real run, or nil
// for a dry run.
func newWatcher(c *cli.Context, cfg config, every time.Duration, log *slog.Logger) (*watcher, error) {
	var p *pinger
	if raw := c.String("ping-url"); raw != "" {
		var err error
		if p, err = newPinger(raw, log); err != nil {
			return nil, err
		}
	}
	if c.Bool("dry-run") {
		return nil, nil
	}
	return &watcher{cfg: cfg, every: every, ping: p, log: log, now: time.Now}, nil
}

// tick is one run as the ones watching see it: its start, the run, its
// end with its exit status.
func (j *cleanupJob) tick(ctx context.Context) error {
	j.watch.begin(ctx)
	err := j.once(ctx)
	j.watch.end(ctx, err)
	return err
}

// begin tells the monitor that a run starts. The state file has to wait
// for the database: its place depends on it (see opened).
func (w *watcher) begin(ctx context.Context) {
	if w == nil {
		return
	}
	w.path, w.state, w.rep = "", nil, nil
	if w.ping != nil {
		w.ping.start(ctx)
	}
}

// opened records the start of the run in db's state file, keeping what
// the file says of the last finished run until this one finishes.
//
// Only the first run that succeeds creates the file (see end): a run that
// is refused, or fails, on an install where none has succeeded yet leaves
// the install as it found it, as docs/troubleshooting.md's Exit status promises.
func (w *watcher) opened(db store.DB) {
	if w == nil {
		return
	}
	// Without creating the state directory: the run's journal does, if
	// the run gets that far.
	path, err := w.cfg.healthPath(db, false)
	if err != nil {
		return // the run fails on its journal, which has no place either, and says so
	}
	s, err := readState(path)
	w.exists = !errors.Is(err, errNoState)
	if err != nil {
		s = &runState{} // none yet, or unreadable: this run starts it afresh
	}
	s.Version = stateVersion
	if w.every > 0 {
		s.Every = duration(w.every)
	}
	s.Started = w.now()
	w.path, w.state = path, s
	if w.exists {
		w.write(false)
	}
}

// report keeps the run's counts for its end.
func (w *watcher) report(rep *cleanup.Report) {
	if w != nil {
		w.rep = rep
	}
}

// end records how the run ended, then tells the monitor.
func (w *watcher) end(ctx context.Context, err error) {
	if w == nil {
		return
	}
	status := exitCode(err)
	// A run cut short by a signal, or one that failed, creates no file;
	// the first run that does its job does.
	if s := w.state; s != nil && (w.exists || status == 0 && ctx.Err() == nil) {
		s.Finished, s.ExitStatus, s.Error = w.now(), status, ""
		if err != nil && !errors.Is(err, errLeftBehind) {
			s.Error = oneLine(err)
		}
		s.Stale, s.Deleted, s.Failed, s.Pending = 0, 0, 0, 0
		if r := w.rep; r != nil {
			s.Stale, s.Deleted, s.Failed, s.Pending = r.Stale, r.Deleted, r.Failed, r.Pending
		}
		if status == 0 {
			s.LastSuccess = s.Finished
		}
		w.write(true)
	}
	if w.ping != nil {
		w.ping.finish(ctx, status, summary(status, err, w.rep))
	}
}

// write writes the state file; at the end of a run (warn), a failure is
// logged: one line per run at most.
func (w *watcher) write(warn bool) {
	if err := writeState(w.path, w.state); err != nil && warn {
		w.log.Warn("cannot write the health state file; the cleanup goes on, health will not see this run",
			"path", w.path, "error", oneLine(err))
	}
}

// summary is a run's outcome in one line, for the monitor:
//
//	exit 0: 66 stale, 66 deleted, 0 left behind, 0 pending finished
//	exit 2: database not found: /srv/printdesk/data/db.sqlite3
func summary(status int, err error, rep *cleanup.Report) string {
	var parts []string
	if rep != nil {
		parts = append(parts, fmt.Sprintf("%d stale, %d deleted, %d left behind, %d pending finished",
			rep.Stale, rep.Deleted, rep.Failed, rep.Pending))
	}
	if err != nil && !errors.Is(err, errLeftBehind) {
		parts = append(parts, oneLine(err))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("exit %d", status)
	}
	return fmt.Sprintf("exit %d: %s", status, strings.Join(parts, "; "))
}
