package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// progressMin is how many stale rows make a run long enough to show
// progress for.
const progressMin = 5000

// progressWriter shows a run's progress on stderr, and only when stderr is
// a terminal: journald and CI logs get nothing.
type progressWriter struct {
	w     io.Writer
	shown bool
}

// progress returns the callback for cleanup.Options.Progress, or nil when
// there is nothing worth showing.
func (p *progressWriter) progress(ctx context.Context, db store.DB, opt cleanup.Options) func(*cleanup.Report) {
	if !isTerminal(p.w) {
		return nil
	}
	total, err := db.CountStale(ctx, cleanup.Cutoff(opt.Now, opt.TTLHours))
	if err != nil || total < progressMin {
		return nil
	}
	var last time.Time
	return func(r *cleanup.Report) {
		if time.Since(last) < 200*time.Millisecond {
			return
		}
		last = time.Now()
		p.shown = true
		fmt.Fprintf(p.w, "\r\x1b[Kdeleting: %d of %d stale rows (%d%%), %d left behind",
			r.Deleted, total, min(100, 100*r.Stale/total), r.Failed)
	}
}

// clear removes the progress line, if any, before the final output.
func (p *progressWriter) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}
