//go:build unix

package fs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// RemoveFile removes one file or symlink inside the root with a single
// unlinkat in its directory, opened through the root just before. It never
// removes a directory, nor a symlink to one: a row that names a directory
// link (stl/2026 -> ../archive/2026) would otherwise cut off every file
// below it.
func (r *RootFs) RemoveFile(name string) error {
	return r.RemoveKeys([]string{name})[0]
}

// RemoveKeys removes the files clean (names that CleanPath accepted) as
// RemoveFile does, opening each directory once for the call, and returns
// one error per name. RemoveMany calls it.
func (r *RootFs) RemoveKeys(clean []string) []error {
	c := newDirs(r.root)
	defer c.close()
	errs := make([]error, len(clean))
	for i, name := range clean {
		errs[i] = c.in(name, func(d *dir, base string) error {
			if err := refuseNonFile(d.fd, name, base); err != nil {
				return err
			}
			if err := unix.Unlinkat(d.fd, base, 0); err != nil {
				return &os.PathError{Op: "remove", Path: name, Err: err}
			}
			return nil
		})
	}
	return errs
}

// refuseNonFile fails, with ErrUnsafePath, when base in dirfd is a
// directory or a symlink to one, wherever it points: no upload is either,
// and unlinking a directory link (stl/2025 -> /mnt/archive/2025) would take
// every file below it away from the rows that use them. Following the link
// only reads its target's type. A missing entry is an error that satisfies
// errors.Is(err, iofs.ErrNotExist); a dangling link is a file.
func refuseNonFile(dirfd int, name, base string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return fmt.Errorf("%w: %s is a directory", ErrUnsafePath, name)
	case unix.S_IFLNK:
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
