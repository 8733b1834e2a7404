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
	path   string    // its state file; "" when it has no place (see begin)
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

// begin records the start of a run in the state file, keeping what the
// file says of the last finished run until this one finishes, and tells
// the monitor. The file's place comes from the settings alone (see
// healthPath): a run that fails to open its database records that too.
func (w *watcher) begin(ctx context.Context) {
	if w == nil {
		return
	}
	w.path, w.state, w.exists, w.rep = "", nil, false, nil
	// Without creating the state directory: the run's journal does, if
	// the run gets that far, and end does for the file's first write.
	// Without a place (a state directory that is not to be trusted), the
	// run is refused on its journal, which lives there too, and health on
	// the directory.
	if path, err := w.cfg.healthPath(false); err == nil {
		s, err := readState(path)
		w.exists = !errors.Is(err, errNoState)
		if err != nil {
			s = &runState{} // none yet, or not to be believed: this run starts it afresh
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
	if w.ping != nil {
		w.ping.start(ctx)
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
	// Once there is a file, every run that ends records how, refused or
	// stopped. The first run that did something creates it: one that
	// succeeded, or deleted rows, finished files or kept rows (exit 1),
	// stopped by a signal or not. One that was refused, failed or was
	// stopped before it did anything (a mistyped --db, the lock not
	// obtained) leaves the install as it found it, as docs/troubleshooting.md's
	// Exit status promises, and health goes on saying "no run recorded yet".
	if s := w.state; s != nil && (w.exists || didSomething(ctx, status, w.rep)) {
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
		if !w.exists {
			w.cfg.healthPath(true) // the XDG state directory, if no journal made it
		}
		w.write(true)
	}
	if w.ping != nil {
		w.ping.finish(ctx, status, summary(status, err, w.rep))
	}
}

// didSomething tells whether a run that ended with status and rep (nil if
// it never got to its work) succeeded or changed anything. A stop is exit
// 0 too (docs/troubleshooting.md, Exit status), but no success.
func didSomething(ctx context.Context, status int, rep *cleanup.Report) bool {
	return status == 0 && ctx.Err() == nil || rep != nil && rep.Deleted+rep.Pending+rep.Failed > 0
}

// write writes the state file; at the end of a run (warn), a failure is
// logged: one line per run at most.
func (w *watcher) write(warn bool) {
	if err := writeState(w.path, w.state); err != nil && warn {
		w.log.Warn("cannot write the health state file; health will not see this run, and says it cannot be written",
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
