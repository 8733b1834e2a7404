package cleanup

import (
	"context"
	"errors"
	"math"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// group is committed batches whose files go through the gate together (a
// run without a file grace): one scan of the table answers for all of
// them.
type group struct {
	batches []int64
	rows    []protocol.Submission // the deleted rows with a file
	entries []entry               // their files, as journaled
}

func (g *group) add(batch int64, rows []protocol.Submission, entries []entry) {
	g.batches = append(g.batches, batch)
	g.rows = append(g.rows, rows...)
	g.entries = append(g.entries, entries...)
}

// removal is a group's files on their way through the gate: judged, then
// removed in the background while the run pauses for the web app, or
// while the next batch goes through the database (PostgreSQL).
type removal struct {
	group
	verdicts []verdict // per entry
	err      error     // the gate's: the database could not be asked
	done     chan struct{}
}

// startRemoval takes the files of the committed batches that wait through
// the gate: it asks the database, at once, which rows name them (so that
// nothing of the run reads the database during the pause that follows),
// and starts removing those that none names. Nil when none wait.
//
// The files of committed batches all go, a stop or not (a group holds
// about maxFilesPerBatch): what a stop must not cut short is the
// journal's note of them, which finish writes.
func (r *runner) startRemoval(ctx context.Context) *removal {
	if len(r.ready.batches) == 0 {
		return nil
	}
	m := &removal{group: r.ready, verdicts: make([]verdict, len(r.ready.entries)), done: make(chan struct{})}
	r.ready = group{}
	ctx = context.WithoutCancel(ctx)
	if m.err = r.gate.judge(ctx, m.entries, m.verdicts); m.err != nil {
		close(m.done)
		return m
	}
	go func() {
		defer close(m.done)
		r.gate.remove(ctx, m.entries, m.verdicts)
	}()
	return m
}

// finish waits for m's files to go, reports each one that did not, and
// notes in the journal that m's batches are finished, listing the files
// that stay pending (a removal that failed or that a stop cut short) in a
// new batch, so that the next run retries them. Their rows are gone
// already: a failure here is one that fs.Inspect could not foresee, such
// as an I/O error.
func (r *runner) finish(m *removal) error {
	if m == nil {
		return nil
	}
	<-m.done
	if m.err != nil {
		// The database could not be asked: nothing went, all stays listed.
		return m.err
	}
	var retry []entry
	for i, v := range m.verdicts {
		r.judged(v, m.entries[i], m.rows[i].Slug)
		if !v.finished() {
			retry = append(retry, m.entries[i])
		}
	}
	through := make(map[int64]int64, len(m.batches))
	for _, b := range m.batches {
		through[b] = math.MaxInt64
	}
	return r.journal.settle(retry, r.journal.goneAt(m.batches[0]), through)
}

// judged reports what the gate did with one file, if it is worth a word:
// a failure (the file stays listed), a file that is no longer the one
// journaled (it stays, and is dropped from the journal), or one whose
// names could not all be found.
func (r *runner) judged(v verdict, e entry, slug string) {
	switch {
	case v.used:
	case v.unknown:
		r.opt.Log.Warn("cannot tell every name of this file in MEDIA_ROOT's links; it stays listed", "slug", slug, "path", e.path)
	case v.result.Outcome == fs.Replaced:
		r.opt.Log.Warn("not the file that was journaled (a new upload took the name, or it was written again); left in place",
			"slug", slug, "path", e.path)
	case v.result.Outcome == fs.Failed && r.cutShort(v.result.Err):
	case v.result.Outcome == fs.Failed:
		r.opt.Log.Error("cannot remove file; its row is deleted, the journal keeps it for the next run",
			"slug", slug, "path", e.path, "error", v.result.Err)
		r.rep.addFailure(Failure{Slug: slug, Path: e.path, Error: v.result.Err.Error()})
	}
}

// cutShort reports whether a removal failed only because the run was
// stopped under it (a signal): the file stays in the journal, for the
// next run, and it is not a failure. It counts such removals, for one
// line at the end of the run.
func (r *runner) cutShort(err error) bool {
	if !errors.Is(err, context.Canceled) {
		return false
	}
	r.cut++
	return true
}

// noteCut says, once, how many removals a stop cut short.
func (r *runner) noteCut() {
	if r.cut > 0 {
		r.opt.Log.Info("a stop cut file removals short; the journal keeps them for the next run", "files", r.cut)
	}
}
