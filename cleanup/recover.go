package cleanup

import (
	"context"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

// finishJournal finishes what an interrupted run left in the journal: it
// removes each listed file that no row references now, and drops the
// entry either way. A listed file whose row is still there belongs to a
// batch whose deletion never committed (or is shared): it stays. A file
// modified after its batch was written is a new upload that took a free
// name: it stays too. A file that cannot be removed stays listed, for the
// next run.
//
// Nothing indexes the files, so this reads every row's file once, in short
// reads (see references); it happens only after a crash. Files are
// compared by what they are, not by spelling (fs.Keys).
func (r *runner) finishJournal(ctx context.Context) error {
	left := r.journal.Left()
	if len(left) == 0 {
		return nil
	}
	r.rep.Pending = int64(len(left))
	keys := fs.NewKeys(r.media)
	defer keys.Close()
	refs, err := loadReferences(ctx, r.db, keys)
	if err != nil {
		return err
	}
	var batches []int64
	var gone []string
	for i, e := range left {
		if i == 0 || e.Batch != left[i-1].Batch {
			batches = append(batches, e.Batch)
		}
		if refs.has(keys, e.Path) {
			continue
		}
		if mt, err := fs.ModTime(r.media, e.Path); err == nil && mt.After(e.At) {
			r.opt.Log.Warn("a file listed by an interrupted run was written again since; kept", "path", e.Path)
			continue
		}
		gone = append(gone, e.Path)
	}
	var failed []string
	for i, err := range fs.RemoveMany(r.media, gone) {
		if err != nil {
			r.opt.Log.Error("cannot remove a file whose row an interrupted run deleted; the journal keeps it",
				"path", gone[i], "error", err)
			r.rep.addFailure(Failure{Path: gone[i], Error: err.Error()})
			failed = append(failed, gone[i])
		}
	}
	return r.journal.Finish(failed, batches...)
}
