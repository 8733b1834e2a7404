package cleanup

import (
	"path"
	"sync"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// removeFiles removes the files of rows, opt.Workers at a time, and returns
// the ids of the rows that may now be deleted: those whose file is gone (or
// was already), and those whose file another row still uses, which stays.
// Every other row is a failure: it is logged, reported, and kept, so that
// the next run retries it.
func (r *runner) removeFiles(rows []store.Submission, inUse map[string]bool) []int64 {
	errs := make([]error, len(rows))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(r.opt.Workers, len(rows)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				errs[i] = fs.Remove(r.media, rows[i].File)
			}
		}()
	}
	for i, s := range rows {
		if !inUse[path.Clean(s.File)] {
			jobs <- i
		}
	}
	close(jobs)
	wg.Wait()

	gone := make([]int64, 0, len(rows))
	for i, s := range rows {
		if errs[i] != nil {
			r.opt.Log.Error("cannot remove file; row kept", "slug", s.Slug, "path", s.File, "error", errs[i])
			r.rep.addFailure(Failure{Slug: s.Slug, Path: s.File, Error: errs[i].Error()})
			continue
		}
		gone = append(gone, s.ID)
	}
	return gone
}
