package fs

import (
	"time"

	"github.com/spf13/afero"
)

// Check reports whether Remove may remove name, a path relative to the
// root of fsys, without changing anything. It fails for an unsafe path
// (ErrUnsafePath), a directory, a path the file system refuses (one
// through a symlink that leaves the root), and, where the file system can
// tell (RootFs), a file that the removal would fail on now: a directory
// this user may not write, or an immutable or append-only file or
// directory. A missing file is fine.
//
// The cleanup checks each file before it deletes the file's row: a row
// whose file cannot go keeps its row.
func Check(fsys afero.Fs, name string) error {
	if rc, ok := fsys.(removeChecker); ok {
		clean, err := CleanPath(name)
		if err != nil {
			return err
		}
		return rc.CheckRemove(clean)
	}
	_, _, err := check(fsys, name)
	return err
}

// CheckMany is Check for each of names, with one error per name. A file
// system that checks many names at a lower cost (RootFs opens each
// directory once) gets them all at once.
func CheckMany(fsys afero.Fs, names []string) []error {
	errs := make([]error, len(names))
	mc, ok := fsys.(manyChecker)
	if !ok {
		for i, name := range names {
			errs[i] = Check(fsys, name)
		}
		return errs
	}
	return onClean(names, errs, mc.CheckRemoveMany)
}

// manyChecker is a removeChecker that checks many names in one call.
type manyChecker interface {
	CheckRemoveMany(clean []string) []error
}

// removeChecker is a file system that can tell, without changing
// anything, whether removing the file at clean (a path that CleanPath
// accepted) would fail: for a directory, a file behind a symlink that
// leaves the root, and whatever else it can see. A missing file is fine.
type removeChecker interface {
	CheckRemove(clean string) error
}

// ModTime returns when the file at name, a path relative to the root of
// fsys, was last modified, without following a final symlink. A missing
// file is iofs.ErrNotExist.
func ModTime(fsys afero.Fs, name string) (time.Time, error) {
	clean, err := CleanPath(name)
	if err != nil {
		return time.Time{}, err
	}
	fi, err := lstat(fsys, clean)
	if err != nil {
		return time.Time{}, err
	}
	return fi.ModTime(), nil
}

// ReadOnly wraps fsys so that every change fails. Dry runs get this, so that
// they are read-only by construction, not by care. What only looks (Lstat,
// the removal check) still reaches fsys, so that a dry run predicts what a
// real run would keep.
func ReadOnly(fsys afero.Fs) afero.Fs {
	return readOnlyFs{afero.NewReadOnlyFs(fsys).(*afero.ReadOnlyFs), fsys}
}

type readOnlyFs struct {
	*afero.ReadOnlyFs
	under afero.Fs
}

func (r readOnlyFs) CheckRemove(clean string) error {
	if rc, ok := r.under.(removeChecker); ok {
		return rc.CheckRemove(clean)
	}
	_, _, err := check(r.under, clean)
	return err
}

func (r readOnlyFs) CheckRemoveMany(clean []string) []error {
	if mc, ok := r.under.(manyChecker); ok {
		return mc.CheckRemoveMany(clean)
	}
	errs := make([]error, len(clean))
	for i, c := range clean {
		errs[i] = r.CheckRemove(c)
	}
	return errs
}

var (
	_ afero.Lstater = readOnlyFs{}
	_ manyChecker   = readOnlyFs{}
	_ removeChecker = readOnlyFs{}
)
