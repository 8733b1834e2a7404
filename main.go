// Command cleanup-stale deletes the print submissions that got stuck (guests
// who never confirmed, rejected ones) and their uploaded files, working on
// the web app's own database and MEDIA_ROOT. It replaces the web app's
// `python manage.py cleanup_stale`. The README and docs/ say how to use it;
// docs/design.md says how it works.
//
// The command line lives in internal/app; the job in package cleanup, which
// joins the database (package store) and the files (package fs).
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/cleanup-stale/cleanup-stale/internal/app"
)

func main() {
	// Signals become a cancelled context once, here: a run stops between
	// two transactions and exits 0. A hangup (the terminal or the session
	// that started the run went away) is a stop like any other.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt, syscall.SIGHUP)
	// A reader that goes away (stderr piped to a closed pager, a log
	// shipper that died) must not kill a run between its commit and its
	// removals: a write to a broken pipe then fails with EPIPE instead.
	signal.Ignore(syscall.SIGPIPE)
	// A run's live heap is a few MB and flat (its batches are bounded), so
	// collecting when the heap has grown by half, not doubled, costs little
	// CPU and keeps a run over millions of rows under 32 MB of resident
	// memory, of which the binary's own code is 15 (docs/performance.md).
	// GOGC, when set, still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	code := app.Run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
