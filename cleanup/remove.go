package cleanup

import (
	"context"
	"errors"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// removal is one committed batch's files, being removed in the background
// while the next batch goes through the database.
type removal struct {
	batch int64              // in the journal
	rows  []store.Submission // the deleted rows whose files go
	errs  []error            // per row, once done is closed
	done  chan struct{}
}

// remove starts removing the files of the rows that del deleted, in
// journal batch batch, except those that another row still uses (the
// files of the rows that the transaction checked). Nil when there is
// nothing to do.
func (r *runner) remove(batch int64, del protocol.Deleted) *removal {
	if batch == 0 {
		return nil
	}
	m := &removal{batch: batch, done: make(chan struct{}), rows: r.unshared(del)}
	go func() {
		defer close(m.done)
		names := make([]string, len(m.rows))
		for i, s := range m.rows {
			names[i] = s.File
		}
		m.errs = removeAll(r.media, names, r.opt.Workers)
	}()
	return m
}

// unshared returns the rows of del whose file no other row uses: none of
// the rows whose files the transaction read (del.OtherFiles) names the
// same file, however it spells it (see fs.Keys). Their files are still on
// disk here, so that the keys are compared while they mean something.
func (r *runner) unshared(del protocol.Deleted) []protocol.Submission {
	if len(del.OtherFiles) == 0 {
		return del.Rows
	}
	keys := fs.NewKeys(r.media)
	defer keys.Close()
	used := map[string]bool{}
	for _, f := range del.OtherFiles {
		for _, k := range namesOf(keys, f) {
			used[k] = true
		}
	}
	var rows []protocol.Submission
next:
	for _, s := range del.Rows {
		for _, k := range namesOf(keys, s.File) {
			if used[k] { // a file another row still uses stays
				continue next
			}
		}
		rows = append(rows, s)
	}
	return rows
}

// finish waits for m's files to go, reports each one that did not, and
// marks m's batch done in the journal, listing the files that did not go
// in a new batch, so that the next run retries them. Their rows are gone
// already: a failure here is one that fs.Check could not foresee, such as
// an I/O error.
func (r *runner) finish(m *removal) error {
	if m == nil {
		return nil
	}
	<-m.done
	var failed []string
	for i, err := range m.errs {
		if err == nil {
			continue
		}
		s := m.rows[i]
		failed = append(failed, s.File)
		if r.cutShort(err) {
			continue
		}
		r.opt.Log.Error("cannot remove file; its row is deleted, the journal keeps it for the next run",
			"slug", s.Slug, "path", s.File, "error", err)
		r.rep.addFailure(Failure{Slug: s.Slug, Path: s.File, Error: err.Error()})
	}
	return r.journal.finishBatches(failed, m.batch)
}

// cutShort reports whether a removal failed only because the run was
// stopped under it (the media's context cancelled, after a signal): the
// file stays in the journal, for the next run, and it is not a failure.
// It counts such removals, for one line at the end of the run.
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
