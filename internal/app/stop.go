package app

import (
	"context"
	"errors"
	"time"
)

// A signal (SIGTERM, SIGINT, SIGHUP: see main) cancels the command's
// context. A stop is not a failure (docs/troubleshooting.md): what a run
// leaves, the rows still in the database or the files still listed in
// the journal, the next run takes up.

// errStopped means that a signal stopped the command before it changed
// anything: while it waited to open the database (a lock, a server that
// does not answer) or MEDIA_ROOT. It is exit 0, with one line of
// information.
var errStopped = errors.New("stopped by a signal before anything changed")

// stopped tells whether err only says that ctx was cancelled under it. A
// configuration error stays one, found before the signal or after.
func stopped(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil && !isConfigError(err)
}

// stopGrace is how long the requests in flight to MEDIA_ROOT (S3) get to
// finish after a signal: long enough for a healthy server to answer the
// removals of the batch that the run had just committed (a DeleteObjects
// of 1000 keys takes well under a second), short enough that a stop
// takes moments, well within the 10 s that container runtimes wait
// before they kill (podman stop, docker stop). Too short would cost
// little: what a stopped request did not remove stays in the journal for
// the next run.
const stopGrace = 2 * time.Second

// withGrace returns a context that is done grace after ctx is, and in the
// meantime carries on as if ctx had not ended. release ends it at once.
func withGrace(ctx context.Context, grace time.Duration) (graced context.Context, release func()) {
	graced, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return graced, func() { stop(); cancel() }
}
