package app

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/afero"
	"github.com/urfave/cli/v2"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// globalFlags are the flags that every command understands. The app
// declares them with their environment variables; each subcommand declares
// them again, without, so that users can also write them after the
// subcommand (`cleanup-stale stats --db x`). config resolves the two.
//
// It cannot be simpler in urfave/cli v2: it has no persistent flags (v3
// has), a subcommand refuses a flag that only the app declares, and a
// subcommand's copy with the environment variable would count as set by
// the environment and hide a flag written before the subcommand.
func globalFlags(withEnv bool) []cli.Flag {
	// env returns the variable for the app's flag; a subcommand's copy has
	// none (it would shadow the app's command line) but says which one the
	// app reads.
	env := func(name, usage string) ([]string, string) {
		if withEnv {
			return []string{name}, usage
		}
		return nil, usage + " [$" + name + "]"
	}
	dbEnv, dbUsage := env(envPrefix+"DB", "the web app's SQLite database `PATH` (never created), or a postgres:// URL; "+
		"without it, $DATABASE_URL as dj-database-url reads it (postgres:// or sqlite:////abs/path)")
	mediaEnv, mediaUsage := env("MEDIA_ROOT", "the `DIR` that uploads' paths are relative to, or s3://BUCKET[/PREFIX]")
	ttlEnv, ttlUsage := env(envPrefix+"TTL_HOURS", "a submission is stale `N` hours after it was created (identifying) or closed (rejected)")
	nowEnv, nowUsage := env(envPrefix+"NOW", "judge staleness as of this RFC 3339 `TIME` instead of the clock")
	busyEnv, busyUsage := env(envPrefix+"BUSY_TIMEOUT", "wait up to `D` for the web app's lock on the database")
	jsonEnv, jsonUsage := env(envPrefix+"JSON", "print one JSON object per run on stdout instead of text")
	stateEnv, stateUsage := env(envPrefix+"STATE_DIR", "keep the pending-removal journal in `DIR` (default: next to a SQLite database; "+
		"else $STATE_DIRECTORY, else ~/.local/state/cleanup-stale)")
	graceEnv, graceUsage := env(envPrefix+"FILE_GRACE", "remove a file only once its row has been gone for `D`, "+
		"since the web app may write a row it read before back; 0 removes files right after the commit")
	return []cli.Flag{
		&cli.StringFlag{Name: "db", Value: "db.sqlite3", EnvVars: dbEnv, Usage: dbUsage},
		&cli.StringFlag{Name: "media-root", Value: "media", EnvVars: mediaEnv, Usage: mediaUsage},
		&cli.IntFlag{Name: "ttl-hours", Value: 24, EnvVars: ttlEnv, Usage: ttlUsage},
		&cli.StringFlag{Name: "now", EnvVars: nowEnv, Usage: nowUsage},
		&cli.DurationFlag{Name: "busy-timeout", Value: 5 * time.Second, EnvVars: busyEnv, Usage: busyUsage},
		&cli.BoolFlag{Name: "json", EnvVars: jsonEnv, Usage: jsonUsage},
		&cli.StringFlag{Name: "state-dir", EnvVars: stateEnv, Usage: stateUsage},
		&cli.DurationFlag{Name: "file-grace", Value: cleanup.DefaultFileGrace, EnvVars: graceEnv, Usage: graceUsage},
	}
}

// config is the resolved global settings.
type config struct {
	db          string
	mediaRoot   string
	ttlHours    int
	now         time.Time // when nowGiven; else the clock
	nowGiven    bool
	busyTimeout time.Duration
	json        bool
	stateDir    string
	fileGrace   time.Duration
}

// maxTTLHours keeps now - ttl within what time.Duration can hold.
const maxTTLHours = math.MaxInt64 / int64(time.Hour)

// commandConfig is how every command starts: no stray arguments, then the
// global flags.
func commandConfig(c *cli.Context) (config, error) {
	if c.Args().Present() {
		return config{}, usageError{fmt.Errorf("unexpected argument %q (see --help)", c.Args().First())}
	}
	return loadConfig(c)
}

// loadConfig reads and checks the global flags. A flag written after the
// subcommand wins over one written before it, which wins over the
// environment, which wins over the default.
func loadConfig(c *cli.Context) (config, error) {
	db, err := database(c)
	if err != nil {
		return config{}, err
	}
	cfg := config{
		db:          db,
		mediaRoot:   from(c, "media-root").String("media-root"),
		ttlHours:    from(c, "ttl-hours").Int("ttl-hours"),
		busyTimeout: from(c, "busy-timeout").Duration("busy-timeout"),
		json:        from(c, "json").Bool("json"),
		stateDir:    from(c, "state-dir").String("state-dir"),
		fileGrace:   from(c, "file-grace").Duration("file-grace"),
	}
	switch {
	case cfg.db == "":
		return cfg, usageError{fmt.Errorf("--db: empty path")}
	case cfg.mediaRoot == "":
		return cfg, usageError{fmt.Errorf("--media-root: empty path")}
	case cfg.ttlHours < 0:
		return cfg, usageError{fmt.Errorf("--ttl-hours %d: must be 0 or more", cfg.ttlHours)}
	case int64(cfg.ttlHours) > maxTTLHours:
		return cfg, usageError{fmt.Errorf("--ttl-hours %d: must be at most %d", cfg.ttlHours, maxTTLHours)}
	case cfg.busyTimeout < 0:
		return cfg, usageError{fmt.Errorf("--busy-timeout %s: must not be negative", cfg.busyTimeout)}
	case cfg.fileGrace < 0:
		return cfg, usageError{fmt.Errorf("--file-grace %s: must not be negative", cfg.fileGrace)}
	}
	if s := from(c, "now").String("now"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return cfg, usageError{fmt.Errorf("--now %q: not an RFC 3339 time (like 2026-11-25T12:00:00Z)", s)}
		}
		// The web app's timestamps run from year 1 to 9999, and so must the
		// cutoff; any such --now is honoured, even the zero time.
		if cutoff := cleanup.Cutoff(t, cfg.ttlHours); cutoff.Year() < 1 || t.UTC().Year() > 9999 {
			return cfg, usageError{fmt.Errorf("--now %q: with --ttl-hours %d the cutoff falls outside the years 1 to 9999", s, cfg.ttlHours)}
		}
		cfg.now, cfg.nowGiven = t, true
	}
	return cfg, nil
}

// noneIfZero is a duration flag as the library takes it: the command
// line's 0 (no pause, no grace) is cleanup.None, since a zero in
// cleanup's options means the default.
func noneIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return cleanup.None
	}
	return d
}

// clock returns the instant to judge staleness at: --now, or the clock.
func (cfg config) clock() time.Time {
	if cfg.nowGiven && cfg.now.IsZero() {
		// --now 0001-01-01T00:00:00Z: to package cleanup, the zero instant
		// means the clock. A nanosecond later judges alike, since the
		// cutoff is cut to the microsecond.
		return cfg.now.Add(time.Nanosecond)
	}
	if cfg.nowGiven {
		return cfg.now
	}
	return time.Now()
}

// explain makes a lock timeout say what happened and which knob governs
// it; other errors pass through.
func (cfg config) explain(err error) error {
	if store.IsBusy(err) {
		return fmt.Errorf("%s is locked: another connection held it for longer than --busy-timeout %s (%w)",
			store.DisplayName(cfg.db), cfg.busyTimeout, err)
	}
	return err
}

// openDB opens the database that cfg names; read-only for dry runs and
// stats. A signal while it waits (for a lock, for the server) is
// errStopped.
func (cfg config) openDB(ctx context.Context, readOnly bool) (store.DB, error) {
	db, err := store.Open(ctx, cfg.db, store.Options{ReadOnly: readOnly, BusyTimeout: cfg.busyTimeout})
	switch {
	case stopped(ctx, err):
		return nil, errStopped
	case err != nil:
		return nil, runError{cfg.explain(err)}
	}
	return db, nil
}

// mediaName names MEDIA_ROOT in the journal, for messages: its absolute
// path, or its s3:// URL.
func (cfg config) mediaName() string {
	if fs.IsS3(cfg.mediaRoot) {
		return strings.TrimRight(cfg.mediaRoot, "/")
	}
	if abs, err := filepath.Abs(cfg.mediaRoot); err == nil {
		return abs
	}
	return cfg.mediaRoot
}

// media names the MEDIA_ROOT opened as fsys in the journal: by its name,
// and by what it is (fs.RootID), so that a journal is never finished
// against another media root, and is finished against the same root
// reached another way.
func (cfg config) media(fsys afero.Fs) (cleanup.Media, error) {
	id, err := fs.RootID(fsys)
	if err != nil {
		return cleanup.Media{}, runError{fmt.Errorf("%w: %s: %v", fs.ErrNoMediaRoot, cfg.mediaRoot, err)}
	}
	return cleanup.Media{Name: cfg.mediaName(), ID: id}, nil
}

// openMedia opens MEDIA_ROOT: a directory, confined by os.Root, or an S3
// bucket's prefix. An S3 request in flight at a signal gets stopGrace to
// finish, so that the files of the batch just committed are still
// removed; then it is abandoned, and what it did not remove stays in the
// journal for the next run. (A removal on a disk cannot hang, and always
// finishes.)
func (cfg config) openMedia(ctx context.Context) (afero.Fs, func() error, error) {
	if fs.IsS3(cfg.mediaRoot) {
		graced, release := withGrace(ctx, stopGrace)
		s3, err := fs.NewS3Fs(graced, cfg.mediaRoot, os.Getenv)
		switch {
		case stopped(ctx, err):
			release()
			return nil, nil, errStopped
		case err != nil:
			release()
			return nil, nil, runError{err}
		}
		return s3, func() error { defer release(); return s3.Close() }, nil
	}
	root, err := fs.NewRootFs(cfg.mediaRoot)
	if err != nil {
		return nil, nil, runError{err}
	}
	return root, root.Close, nil
}

// journalPath returns where db's pending-removal journal lives; a real run
// creates the directory if it is the user's own state directory.
func (cfg config) journalPath(db store.DB, create bool) (string, error) {
	p, err := cleanup.JournalPath(db, cfg.stateDir, create)
	if err != nil {
		return "", runError{err}
	}
	return p, nil
}

// otherJournals lists the journals beside db's own that list files (see
// cleanup.OtherJournals), for stats.
func (cfg config) otherJournals(db store.DB) ([]cleanup.OtherJournal, error) {
	p, err := cfg.journalPath(db, false)
	if err != nil {
		return nil, err
	}
	return cleanup.OtherJournals(afero.NewOsFs(), db, cfg.stateDir, p), nil
}

// journalSummary counts the removals that db's journal still lists, due
// and waiting, without locking, creating or changing anything: what a
// dry run and stats report. A dry run, which previews a real run, refuses
// a journal left under another media root as the real run would; stats,
// which may be run without --media-root, passes no media and does not
// ask.
func (cfg config) journalSummary(db store.DB, media *cleanup.Media) (cleanup.JournalSummary, error) {
	p, err := cfg.journalPath(db, false)
	if err != nil {
		return cleanup.JournalSummary{}, err
	}
	s, err := cleanup.ReadJournal(afero.NewOsFs(), p, media, cfg.fileGrace)
	if err != nil {
		return s, runError{err}
	}
	return s, nil
}

// from returns the context whose value of the global flag name counts: the
// nearest command, subcommand first, where the flag was written (or, for
// the app, set through its environment variable); else the app's, for the
// default.
func from(c *cli.Context, name string) *cli.Context {
	root := c
	for _, cc := range c.Lineage() {
		if cc.Command == nil { // urfave/cli's outermost context has no flags
			continue
		}
		if cc.IsSet(name) {
			return cc
		}
		root = cc
	}
	return root
}
