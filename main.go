// Command cleanup-stale deletes the print submissions that got stuck (guests
// who never confirmed, rejected ones) and their uploaded files, working on
// the web app's own SQLite database and MEDIA_ROOT. It replaces the web
// app's `python manage.py cleanup_stale`; SPEC.md is its contract.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/store"
)

func main() {
	// Signals become a cancelled context once, here: a run stops between two
	// transactions and exits 0 (SPEC §3 --every).
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	// A reader that goes away (stderr piped to a closed pager, a log
	// shipper that died) must not kill a run between its commit and its
	// removals: a write to a broken pipe then fails with EPIPE instead.
	signal.Ignore(syscall.SIGPIPE)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line and returns its exit status. It is main without
// the process: tests call it with their own arguments and writers.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := newApp(stdout, stderr).RunContext(ctx, args)
	code := exitCode(err)
	if err != nil && !errors.Is(err, errLeftBehind) {
		fmt.Fprintf(stderr, "cleanup-stale: %v\n", oneLine(err))
	}
	return code
}

// errLeftBehind means the run worked but left something behind (SPEC §3
// exit 1). The details are already on stderr, one line each.
var errLeftBehind = errors.New("some stale submissions were left behind")

// runError marks an error that happened while doing the job, as opposed to
// a command line that urfave/cli refused.
type runError struct{ error }

func (e runError) Unwrap() error { return e.error }

// usageError is a command line or environment that makes no sense.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// exitCode is the one place where an outcome becomes an exit status
// (SPEC §3): 0 done, 1 done but something left behind or the lock not
// obtained, 2 usage or configuration.
func exitCode(err error) int {
	var ue usageError
	var re runError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue),
		errors.Is(err, store.ErrNoDatabase),
		errors.Is(err, store.ErrNotDatabase),
		errors.Is(err, store.ErrSchema),
		errors.Is(err, store.ErrAccess),
		errors.Is(err, fs.ErrNoMediaRoot),
		errors.Is(err, cleanup.ErrJournal):
		return 2
	case errors.Is(err, errLeftBehind), store.IsBusy(err), errors.As(err, &re):
		return 1
	default:
		// Everything else comes from urfave/cli itself: a bad flag, a bad
		// value, an unknown command.
		return 2
	}
}

// oneLine keeps an error to a single line on stderr.
func oneLine(err error) string {
	b := []byte(err.Error())
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}
