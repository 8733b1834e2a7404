//go:build unix

package fs

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// removeTargets removes each target's file with a single unlinkat in its
// directory, opened through the root just before, once a statx on the
// same directory handle has found the file that the target's ID describes
// (see RemoveTargets). It opens each directory once for the call. It never
// removes a directory, nor a symlink to one: a row that names a directory
// link (stl/2026 -> ../archive/2026) would otherwise cut off every file
// below it.
func (r *RootFs) removeTargets(ctx context.Context, clean []Target) []Result {
	c := newDirs(r.root)
	defer c.close()
	res := make([]Result, len(clean))
	for i, t := range clean {
		if err := ctx.Err(); err != nil {
			res[i] = Result{Outcome: Failed, Err: err}
			continue
		}
		err := c.in(t.Path, func(d *dir, base string) error {
			s, err := statAt(d.fd, base)
			switch {
			case err != nil:
				return &os.PathError{Op: "lstat", Path: t.Path, Err: err}
			case s.missing:
				res[i] = Result{Outcome: Gone}
				return nil
			case !t.ID.matches(s):
				res[i] = Result{Outcome: Replaced}
				return nil
			}
			if err := refuseNonFile(d.fd, t.Path, base, s); err != nil {
				return err
			}
			if err := unix.Unlinkat(d.fd, base, 0); err != nil {
				return &os.PathError{Op: "remove", Path: t.Path, Err: err}
			}
			res[i] = Result{Outcome: Removed}
			return nil
		})
		switch {
		case errors.Is(err, os.ErrNotExist):
			res[i] = Result{Outcome: Gone} // no directory, so no file
		case err != nil:
			res[i] = Result{Outcome: Failed, Err: err}
		}
	}
	return res
}

// observe says what is at clean now (see statAt).
func (r *RootFs) observe(clean string) (seen, error) {
	c := newDirs(r.root)
	defer c.close()
	var s seen
	err := c.in(clean, func(d *dir, base string) error {
		var err error
		s, err = statAt(d.fd, base)
		return err
	})
	if errors.Is(err, os.ErrNotExist) {
		return seen{missing: true}, nil
	}
	return s, err
}

// refuseNonFile fails, with ErrUnsafePath, when base in dirfd, which s
// describes, is a directory or a symlink to one, wherever it points: no
// upload is either, and unlinking a directory link (stl/2025 ->
// /mnt/archive/2025) would take every file below it away from the rows
// that use them. Following the link only reads its target's type. A
// dangling link is a file.
func refuseNonFile(dirfd int, name, base string, s seen) error {
	switch {
	case s.dir:
		return fmt.Errorf("%w: %s is a directory", ErrUnsafePath, name)
	case s.link:
		var target unix.Stat_t
		err := unix.Fstatat(dirfd, base, &target, 0)
		switch {
		case errors.Is(err, unix.ENOENT):
		case err != nil:
			return fmt.Errorf("%w: %s is a symlink whose target cannot be told: %v", ErrUnsafePath, name, err)
		case target.Mode&unix.S_IFMT == unix.S_IFDIR:
			return fmt.Errorf("%w: %s is a symlink to a directory", ErrUnsafePath, name)
		}
	}
	return nil
}

var (
	_ targetRemover = (*RootFs)(nil)
	_ observer      = (*RootFs)(nil)
)
