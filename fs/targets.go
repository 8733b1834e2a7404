package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"

	"github.com/spf13/afero"
)

// Target is a file to remove, if it is still the file that ID describes.
type Target struct {
	Path string // relative to the root of the file system
	ID   FileID
}

// Outcome is what RemoveTargets did with one Target.
type Outcome uint8

const (
	// Removed: the file was the one that the Target's ID describes, and
	// it is gone.
	Removed Outcome = iota + 1
	// Gone: nothing was at the name; an earlier removal took it.
	Gone
	// Replaced: another file is at the name now (a new upload that took
	// the freed name, an object written again): it is not the Target's,
	// and it stays.
	Replaced
	// Failed: the removal failed or was refused, and Result.Err says why
	// (ErrUnsafePath, a permission, the context's end). The file may
	// still be there.
	Failed
)

// Result is RemoveTargets' word on one Target.
type Result struct {
	Outcome Outcome
	Err     error // when Failed
}

// RemoveTargets is the one way this package removes files. For each
// target, in order, it checks that the path is a clean path inside the
// root (CleanPath), that what is at it now is the file that the target's
// ID describes, and that it is a file or a symlink (never a directory,
// nor a link to one), and only then removes it. It returns one Result per
// target. Once ctx ends, the targets not yet tried fail with its error:
// a stop cuts a long list of removals short.
//
// A file system that removes files itself (RootFs: the check and the
// unlinkat run back to back on one directory handle; S3Fs: a few
// DeleteObjects requests) is given the whole list. A wrapper (a fault
// injector, a metering wrapper, ReadOnly) is not bypassed: the file system
// beneath it (see Unwrapper) identifies the file and refuses what it would
// refuse, and then the removal goes through the wrapper's Remove, which
// may fail it. The window between the check and the removal is wider
// there; the cleanup only ever wraps for tests and dry runs.
func RemoveTargets(ctx context.Context, fsys afero.Fs, targets []Target) []Result {
	res := make([]Result, len(targets))
	at := make([]int, 0, len(targets))
	clean := make([]Target, 0, len(targets))
	for i, t := range targets {
		c, err := CleanPath(t.Path)
		if err != nil {
			res[i] = Result{Outcome: Failed, Err: err}
			continue
		}
		at = append(at, i)
		clean = append(clean, Target{Path: c, ID: t.ID})
	}
	if len(clean) == 0 {
		return res
	}
	var got []Result
	if tr, ok := fsys.(targetRemover); ok {
		got = tr.removeTargets(ctx, clean)
	} else {
		got = make([]Result, len(clean))
		for j, t := range clean {
			got[j] = removeThrough(ctx, fsys, t)
		}
	}
	for j, r := range got {
		res[at[j]] = r
	}
	return res
}

// targetRemover is a file system that removes Targets itself. It gets
// clean paths, and returns one Result per target.
type targetRemover interface {
	removeTargets(ctx context.Context, clean []Target) []Result
}

// removeThrough removes one target through fsys's own Remove, after the
// file system beneath has identified the file and refused what it would.
func removeThrough(ctx context.Context, fsys afero.Fs, t Target) Result {
	if err := ctx.Err(); err != nil {
		return Result{Outcome: Failed, Err: err}
	}
	s, err := observe(fsys, t.Path)
	switch {
	case err != nil:
		return Result{Outcome: Failed, Err: err}
	case s.missing:
		return Result{Outcome: Gone}
	case !t.ID.matches(s):
		return Result{Outcome: Replaced}
	case s.dir:
		return Result{Outcome: Failed, Err: fmt.Errorf("%w: %s is a directory", ErrUnsafePath, t.Path)}
	}
	if rc, ok := beneath[removeChecker](fsys); ok {
		if err := rc.CheckRemove(t.Path); err != nil {
			return Result{Outcome: Failed, Err: err}
		}
	}
	switch err := fsys.Remove(t.Path); {
	case errors.Is(err, iofs.ErrNotExist):
		return Result{Outcome: Gone}
	case err != nil:
		return Result{Outcome: Failed, Err: err}
	}
	return Result{Outcome: Removed}
}

// observer is a file system that tells what is at a name in more detail
// than a FileInfo: an inode and a birth time, an ETag.
type observer interface {
	observe(clean string) (seen, error)
}

// observe says what is at clean now, without following a final symlink:
// through the file system beneath fsys where it knows more, else from
// its Lstat.
func observe(fsys afero.Fs, clean string) (seen, error) {
	if o, ok := beneath[observer](fsys); ok {
		return o.observe(clean)
	}
	fi, err := lstat(fsys, clean)
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return seen{missing: true}, nil
	case err != nil:
		return seen{}, err
	}
	return seen{dir: fi.IsDir(), mtime: fi.ModTime().UnixNano(), size: fi.Size()}, nil
}

// Inspection is what Inspect found at one name.
type Inspection struct {
	// ID is the file's identity now (Missing when nothing is there), for
	// a later RemoveTargets.
	ID FileID
	// Err is why a removal would fail now, as Check says; nil for a
	// missing file.
	Err error
}

// Inspect notes, for each name, the identity of the file at it now and
// whether a removal would fail (see Check), without changing anything:
// what the cleanup journals before it deletes a file's row, so that the
// removal later takes that file and no other. A file system that can do
// many names at a lower cost (RootFs opens each directory once; S3Fs asks
// several objects at once) gets them all.
func Inspect(ctx context.Context, fsys afero.Fs, names []string) []Inspection {
	out := make([]Inspection, len(names))
	var at []int
	var clean []string
	for i, name := range names {
		c, err := CleanPath(name)
		if err != nil {
			out[i] = Inspection{Err: err}
			continue
		}
		at = append(at, i)
		clean = append(clean, c)
	}
	if len(clean) == 0 {
		return out
	}
	var got []Inspection
	if in, ok := beneath[inspector](fsys); ok {
		got = in.inspect(ctx, clean)
	} else {
		got = make([]Inspection, len(clean))
		for j, c := range clean {
			s, err := observe(fsys, c)
			if err == nil {
				err = Check(fsys, c)
			}
			got[j] = Inspection{ID: s.id(), Err: err}
		}
	}
	for j, in := range got {
		out[at[j]] = in
	}
	return out
}

// inspector is a file system that inspects many clean names at once.
type inspector interface {
	inspect(ctx context.Context, clean []string) []Inspection
}

// check cleans name and tells whether something is at it, refusing a
// directory.
func check(fsys afero.Fs, name string) (clean string, exists bool, err error) {
	clean, err = CleanPath(name)
	if err != nil {
		return "", false, err
	}
	fi, err := lstat(fsys, clean)
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return clean, false, nil
	case err != nil:
		return "", false, err
	case fi.IsDir():
		return "", false, fmt.Errorf("%w: %s is a directory", ErrUnsafePath, clean)
	}
	return clean, true, nil
}

// lstat does not follow a final symlink where the file system can tell the
// difference, so that a link is judged, and removed, as itself.
func lstat(fsys afero.Fs, name string) (iofs.FileInfo, error) {
	if l, ok := fsys.(afero.Lstater); ok {
		fi, _, err := l.LstatIfPossible(name)
		return fi, err
	}
	return fsys.Stat(name)
}
