package fs

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"syscall"

	"github.com/spf13/afero"
)

// Remove removes the upload at name, a path relative to the root of fsys.
//
// A file that is already missing counts as removed: the goal is that it is
// gone, and a crash after an earlier removal must not block the next run.
// Only files and symlinks are removed (a symlink itself, never its target).
// A directory is refused even when empty (a real disk would remove an empty
// one, afero.MemMapFs even a full one), because no upload is a directory.
func Remove(fsys afero.Fs, name string) error {
	if fr, ok := fsys.(fileRemover); ok {
		if clean, err := CleanPath(name); err != nil {
			return err
		} else if err := fr.RemoveFile(clean); !errors.Is(err, errors.ErrUnsupported) {
			return removeResult(fsys, clean, err)
		}
	}
	if rc, ok := beneath[removeChecker](fsys); ok {
		// A wrapper (see Unwrapper): the file system beneath refuses what
		// it would refuse (a link to a directory), and the removal goes
		// through the wrapper.
		clean, err := CleanPath(name)
		if err == nil {
			err = rc.CheckRemove(clean)
		}
		if err != nil {
			return err
		}
	}
	clean, exists, err := check(fsys, name)
	if err != nil || !exists {
		return err
	}
	return removed(fsys.Remove(clean))
}

// removed is a removal's outcome: a file already missing is removed.
func removed(err error) error {
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	return err
}

// fileRemover is a file system that can remove a file, and refuse a
// directory, in one step (RootFs, with unlinkat).
type fileRemover interface {
	RemoveFile(name string) error
}

// removeResult turns RemoveFile's outcome into Remove's: missing is fine,
// and a directory is refused with the same error as the two-step path.
func removeResult(fsys afero.Fs, clean string, err error) error {
	switch {
	case err == nil, errors.Is(err, iofs.ErrNotExist):
		return nil
	case errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.EPERM):
		// Linux says EISDIR for a directory, other systems EPERM; EPERM
		// may also be a real refusal (chattr +i), so look before saying.
		if fi, lerr := lstat(fsys, clean); lerr == nil && fi.IsDir() {
			return fmt.Errorf("%w: %s is a directory", ErrUnsafePath, clean)
		}
	}
	return err
}

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
