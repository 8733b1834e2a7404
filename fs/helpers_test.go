package fs_test

import (
	"context"
	"errors"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

// removeNow removes whatever file is at each name now, through the one
// removal entry point: Inspect notes each file's identity, RemoveTargets
// removes the files that still have it. It returns one error per name,
// nil for a file removed or already missing, as the confinement and
// refusal tests want to see it.
func removeNow(fsys afero.Fs, names ...string) []error {
	ins := fs.Inspect(context.Background(), fsys, names)
	targets := make([]fs.Target, len(names))
	for i, n := range names {
		targets[i] = fs.Target{Path: n, ID: ins[i].ID}
	}
	errs := make([]error, len(names))
	for i, r := range fs.RemoveTargets(context.Background(), fsys, targets) {
		switch r.Outcome {
		case fs.Removed, fs.Gone:
		case fs.Replaced:
			errs[i] = errReplaced
		default:
			errs[i] = r.Err
		}
	}
	return errs
}

var errReplaced = errors.New("another file took the name")
