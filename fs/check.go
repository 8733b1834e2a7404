package fs

import (
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
	if rc, ok := beneath[removeChecker](fsys); ok {
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
	mc, ok := beneath[manyChecker](fsys)
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

// ReadOnly wraps fsys so that every change fails. Dry runs get this, so that
// they are read-only by construction, not by care. What only looks (Lstat,
// the removal check, a file's identity) still reaches fsys, through
// Unwrap, so that a dry run predicts what a real run would keep.
func ReadOnly(fsys afero.Fs) afero.Fs {
	return readOnlyFs{afero.NewReadOnlyFs(fsys).(*afero.ReadOnlyFs), fsys}
}

type readOnlyFs struct {
	*afero.ReadOnlyFs
	under afero.Fs
}

// Unwrap is the file system that the wrapper keeps from changes.
func (r readOnlyFs) Unwrap() afero.Fs { return r.under }

var (
	_ afero.Lstater = readOnlyFs{}
	_ Unwrapper     = readOnlyFs{}
)

// onClean calls fn once with the names that CleanPath accepts, cleaned,
// and puts its errors, and CleanPath's for the others, in errs, by the
// names' positions. An unsafe name never reaches fn.
func onClean(names []string, errs []error, fn func(clean []string) []error) []error {
	var at []int
	var clean []string
	for i, name := range names {
		c, err := CleanPath(name)
		if err != nil {
			errs[i] = err
			continue
		}
		at = append(at, i)
		clean = append(clean, c)
	}
	if len(clean) == 0 {
		return errs
	}
	for j, err := range fn(clean) {
		errs[at[j]] = err
	}
	return errs
}
