package cleanup

import (
	"context"
	"fmt"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// Listing receives a dry run's findings as they stream, so that a dry run
// over a huge backlog runs in constant memory. Either callback may be
// nil: the zero Listing only counts.
type Listing struct {
	// Start is called once, before any row, with Stale set.
	Start func(*Report) error
	// Row is called for each stale row, in id order.
	Row func(store.Submission) error
}

// Preview is the dry run: it reports what Run would delete, and changes
// nothing. Give it a read-only database and a read-only file system; it only
// reads either.
//
// Rows whose path a real run would refuse (unsafe, or through a symlink
// that leaves MEDIA_ROOT) are listed like the others, since they are stale,
// and are also reported as failures: a real run would leave them.
func Preview(ctx context.Context, db store.DB, media afero.Fs, opt Options, out Listing) (*Report, error) {
	opt, err := opt.resolve()
	rep := &Report{DryRun: true, TTLHours: opt.TTLHours, Failures: []Failure{}}
	switch {
	case err != nil:
		return rep, err
	case db == nil:
		return rep, fmt.Errorf("%w: no database", ErrOptions)
	case media == nil:
		return rep, fmt.Errorf("%w: no media file system", ErrOptions)
	}
	rep.Cutoff = Cutoff(opt.Now, opt.TTLHours)
	n, err := db.CountStale(ctx, rep.Cutoff)
	if err != nil {
		return rep, err
	}
	rep.Stale = n
	if out.Start != nil {
		if err := out.Start(rep); err != nil {
			return rep, err
		}
	}
	err = db.EachStale(ctx, rep.Cutoff, func(s store.Submission) error {
		if s.File != "" {
			if err := fs.Check(media, s.File); err != nil {
				opt.Log.Warn("a real run would keep this row", "slug", s.Slug, "path", s.File, "error", err)
				rep.addFailure(Failure{Slug: s.Slug, Path: s.File, Error: err.Error()})
			}
		}
		if out.Row == nil {
			return nil
		}
		return out.Row(s)
	})
	return rep, err
}
