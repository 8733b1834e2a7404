package cleanup

import (
	"context"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

// finishDue finishes what earlier runs left in the journal and is due:
// the files of batches whose rows have been gone for the file grace. It
// removes each such file that no row references now, by what it is or by
// its spelling (fs.Keys), and drops the entry either way. A listed file
// whose row is still there belongs to a batch whose deletion never
// committed, or a row that the web app wrote back, or one that shares it:
// it stays. A file's times play no part: a file whose row is gone goes,
// however it was touched. A file that cannot be removed stays listed, for
// the next run; an entry that is not a clean path under MEDIA_ROOT is
// reported and dropped, since no run could ever honour it.
//
// Nothing indexes the files, so this reads every row's file once, in short
// reads, into a set whose memory does not grow with the table (see
// references), and streams the journal's files from the file.
func (r *runner) finishDue(ctx context.Context) error {
	due, gone := r.journal.dueLeft(r.journal.now(), r.opt.FileGrace)
	if len(due) == 0 {
		return nil
	}
	keys := fs.NewKeys(r.media)
	defer keys.Close()
	refs, err := loadReferences(ctx, r.db, keys, r.spill())
	if err != nil {
		return err
	}
	defer refs.close()
	var chunk []string
	flush := func() error {
		failed := r.removeLeft(chunk)
		chunk = chunk[:0]
		if len(failed) == 0 {
			return nil
		}
		_, err := r.journal.retry(failed, gone)
		return err
	}
	err = r.journal.eachLeft(due, func(_ int64, path string) error {
		r.rep.Pending++
		if _, err := fs.CleanPath(path); err != nil {
			r.opt.Log.Error("journal entry refused and dropped: not a clean path under MEDIA_ROOT", "path", path, "error", err)
			r.rep.addFailure(Failure{Path: path, Error: "journal entry refused: " + err.Error()})
			return nil
		}
		used, err := refs.has(keys, path)
		if err != nil || used {
			return err
		}
		if chunk = append(chunk, path); len(chunk) == maxFilesPerBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	batches := make([]int64, 0, len(due))
	for seq := range due {
		batches = append(batches, seq)
	}
	return r.journal.finishBatches(nil, batches...)
}

// removeLeft removes files whose rows are gone and returns those that
// could not be removed, each reported.
func (r *runner) removeLeft(names []string) (failed []string) {
	for i, err := range removeAll(r.media, names, r.opt.Workers) {
		if err != nil && r.cutShort(err) {
			failed = append(failed, names[i])
		} else if err != nil {
			r.opt.Log.Error("cannot remove a file whose row is gone; the journal keeps it for the next run",
				"path", names[i], "error", err)
			r.rep.addFailure(Failure{Path: names[i], Error: err.Error()})
			failed = append(failed, names[i])
		}
	}
	return failed
}

// removeAll removes the files at names with up to workers at once, in one
// chunk per worker: on a disk each worker removes its files one by one
// (unlinks overlap well across workers); on S3 each chunk is a
// DeleteObjects request or a few. It returns one error per name.
func removeAll(media afero.Fs, names []string, workers int) []error {
	errs := make([]error, len(names))
	if len(names) == 0 {
		return errs
	}
	size := (len(names) + workers - 1) / workers
	done := make(chan struct{})
	n := 0
	for start := 0; start < len(names); start += size {
		end := min(start+size, len(names))
		n++
		go func() {
			defer func() { done <- struct{}{} }()
			copy(errs[start:end], removeNow(media, names[start:end]))
		}()
	}
	for range n {
		<-done
	}
	return errs
}

// spill is where the run's sets of files may spill to disk.
func (r *runner) spill() spill { return spill{dir: r.opt.TempDir, limit: r.opt.hashLimit} }

// noteWaiting reports the files that wait in the journal for their grace
// when the run ends.
func (r *runner) noteWaiting(now time.Time) {
	s := r.journal.Summary(now, r.opt.FileGrace)
	r.rep.Waiting, r.rep.NextDue = s.Waiting+s.Due, s.NextDue
	if s.Due > 0 {
		r.rep.NextDue = now // listed again after a failure: the next run retries
	}
}

// removeNow removes whatever file is at each name now, through
// fs.RemoveTargets: one error per name, nil for a file removed or gone.
func removeNow(media afero.Fs, names []string) []error {
	ins := fs.Inspect(context.Background(), media, names)
	targets := make([]fs.Target, len(names))
	for i, n := range names {
		targets[i] = fs.Target{Path: n, ID: ins[i].ID}
	}
	errs := make([]error, len(names))
	for i, r := range fs.RemoveTargets(context.Background(), media, targets) {
		if r.Outcome == fs.Failed {
			errs[i] = r.Err
		}
	}
	return errs
}
