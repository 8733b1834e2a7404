package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/afero"
	"github.com/urfave/cli/v2"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/store"
)

func sweepCommand() *cli.Command {
	return &cli.Command{
		Name:      "sweep",
		Usage:     "remove orphan uploads: old files that no row references",
		UsageText: "cleanup-stale [global options] sweep [--dry-run] [--grace 24h] [--upload-dir stl] [--json]",
		Description: "Removes the files under MEDIA_ROOT/upload-dir that no submission references\n" +
			"and that were last modified more than --grace ago, so that a fresh upload\n" +
			"whose row is not committed yet survives. Nothing outside the upload\n" +
			"directory is touched, and symlinks are never followed out of it.",
		Flags: append(globalFlags(false),
			&cli.BoolFlag{Name: "dry-run", EnvVars: []string{envPrefix + "DRY_RUN"},
				Usage: "list what would be removed; open the database and MEDIA_ROOT read-only"},
			&cli.DurationFlag{Name: "grace", Value: 24 * time.Hour, EnvVars: []string{envPrefix + "GRACE"},
				Usage: "spare files modified less than `D` ago"},
			&cli.StringFlag{Name: "upload-dir", Value: "stl", EnvVars: []string{envPrefix + "UPLOAD_DIR"},
				Usage: "the `DIR` under MEDIA_ROOT that holds the uploads"},
		),
		Action:       sweepAction,
		OnUsageError: onUsageError,
	}
}

func sweepAction(c *cli.Context) error {
	cfg, err := commandConfig(c)
	if err != nil {
		return err
	}
	grace, uploadDir := c.Duration("grace"), c.String("upload-dir")
	dryRun := from(c, "dry-run").Bool("dry-run")
	if grace < 0 {
		return usageError{fmt.Errorf("--grace %s: must not be negative", grace)}
	}
	if _, err := fs.CleanPath(strings.TrimRight(uploadDir, "/")); err != nil {
		return usageError{fmt.Errorf("--upload-dir %q: must be a directory inside MEDIA_ROOT", uploadDir)}
	}
	if !dryRun {
		if err := cfg.notLockingOut(); err != nil {
			return err
		}
	}
	db, err := cfg.openDB(c.Context, dryRun)
	if err != nil {
		return err
	}
	defer db.Close()
	media, closeMedia, err := cfg.openMedia(c.Context)
	if err != nil {
		return err
	}
	defer closeMedia()
	if dryRun {
		media = fs.ReadOnly(media)
	}

	out := c.App.Writer
	var files *jsonList // a dry run's JSON: {"files":[...],<the report>}
	if dryRun && cfg.json {
		files = newJSONList(out, struct{}{}, "files")
	}
	opt := cleanup.SweepOptions{
		Now: cfg.clock(), Grace: noneIfZero(grace), UploadDir: uploadDir, DryRun: dryRun,
		Log: newLogger(c.App.ErrWriter),
		Orphan: func(p string) error {
			switch {
			case !dryRun:
				return nil
			case files != nil:
				return files.add(p)
			}
			_, err := fmt.Fprintf(out, " - %s\n", printable(p))
			return err
		},
	}
	journal, err := openSweepJournal(cfg, db, media, dryRun)
	if errors.Is(err, cleanup.ErrJournalBusy) {
		newLogger(c.App.ErrWriter).Info("a cleanup run is active on this database; sweep later", "error", err)
		return nil
	}
	if err != nil {
		return err
	}
	defer journal.Close()
	rep, err := cleanup.Sweep(c.Context, db, media, journal, opt)
	if errors.Is(err, cleanup.ErrNoUploadDir) {
		return usageError{fmt.Errorf("%w under MEDIA_ROOT %s", err, cfg.mediaRoot)}
	}
	if err != nil && c.Context.Err() == nil {
		return runError{cfg.explain(err)}
	}
	if perr := printSweep(c, rep, cfg.json, files); perr != nil && !(errors.Is(perr, errReaderGone) && !dryRun) {
		return runError{perr}
	}
	if rep.Failed > 0 {
		return errLeftBehind
	}
	return nil
}

// openSweepJournal opens db's journal for a sweep: locked, so that no
// cleanup run works at the same time, for a real sweep; only read for a
// dry run. The sweep spares every file that it lists.
func openSweepJournal(cfg config, db store.DB, media afero.Fs, dryRun bool) (*cleanup.Journal, error) {
	m, err := cfg.media(media)
	if err != nil {
		return nil, err
	}
	path, err := cfg.journalPath(db, !dryRun)
	if err != nil {
		return nil, err
	}
	if dryRun {
		j, err := cleanup.ReadOnlyJournal(afero.NewOsFs(), path, m)
		if err != nil {
			return nil, runError{err}
		}
		return j, nil
	}
	j, err := cleanup.OpenJournal(afero.NewOsFs(), path, m)
	if errors.Is(err, cleanup.ErrJournalBusy) {
		return nil, err
	}
	if err != nil {
		return nil, runError{err}
	}
	// A journal left under another name lists files that are not orphans
	// either: they come across first.
	if _, err := j.Adopt(db, cfg.stateDir); err != nil {
		j.Close()
		return nil, runError{err}
	}
	return j, nil
}

// printSweep ends the output: a dry run's JSON list of files, if any, or
// the report.
func printSweep(c *cli.Context, rep *cleanup.SweepReport, asJSON bool, files *jsonList) error {
	out := c.App.Writer
	grace := shortDuration(rep.Grace)
	switch {
	case files != nil:
		return files.end(rep)
	case asJSON:
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	}
	if rep.DryRun {
		_, err := fmt.Fprintf(out, "DRY RUN: would remove %d orphan file(s) older than %s in %s.\n", rep.Orphans, grace, rep.UploadDir)
		return err
	}
	if rep.Removed == 0 {
		return nil
	}
	_, err := fmt.Fprintf(out, "Removed %d orphan file(s) older than %s in %s.\n", rep.Removed, grace, rep.UploadDir)
	return err
}

// shortDuration drops the zero units that time.Duration prints: "24h", not
// "24h0m0s".
func shortDuration(s string) string {
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
