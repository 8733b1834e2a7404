package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs"
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
	listed := 0
	opt := cleanup.SweepOptions{
		Now: cfg.clock(), Grace: grace, UploadDir: uploadDir, DryRun: dryRun,
		Log: newLogger(c.App.ErrWriter),
		Orphan: func(p string) error {
			var err error
			switch {
			case !dryRun:
			case cfg.json && listed == 0:
				_, err = fmt.Fprintf(out, `{"files":[%s`, jsonString(p))
			case cfg.json:
				_, err = fmt.Fprintf(out, `,%s`, jsonString(p))
			default:
				_, err = fmt.Fprintf(out, " - %s\n", printable(p))
			}
			listed++
			return err
		},
	}
	rep, err := cleanup.Sweep(c.Context, db, media, opt)
	if errors.Is(err, cleanup.ErrNoUploadDir) {
		return usageError{fmt.Errorf("%w under MEDIA_ROOT %s", err, cfg.mediaRoot)}
	}
	if err != nil && c.Context.Err() == nil {
		return runError{cfg.explain(err)}
	}
	if perr := printSweep(c, rep, cfg.json, dryRun && listed > 0); perr != nil {
		return runError{perr}
	}
	if rep.Failed > 0 {
		return errLeftBehind
	}
	return nil
}

// printSweep ends the output. A dry run's JSON object was opened by the
// first orphan listed, if any.
func printSweep(c *cli.Context, rep *cleanup.SweepReport, asJSON, open bool) error {
	out := c.App.Writer
	grace := shortDuration(rep.Grace)
	if asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		switch {
		case open:
			_, err = fmt.Fprintf(out, "],%s\n", b[1:])
		case rep.DryRun:
			_, err = fmt.Fprintf(out, "{\"files\":[],%s\n", b[1:])
		default:
			_, err = fmt.Fprintf(out, "%s\n", b)
		}
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

func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}
