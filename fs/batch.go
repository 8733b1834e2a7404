package fs

import (
	"errors"
	iofs "io/fs"

	"github.com/spf13/afero"
)

// RemoveMany removes the uploads at names, paths relative to the root of
// fsys, and returns one error per name: nil for a file removed or already
// missing. An unsafe name gets ErrUnsafePath and is never sent to the file
// system.
//
// It exists for object storage, where a request per file is the cost that
// matters: a file system that can remove many files at once (S3Fs, with
// DeleteObjects) gets them all in one call. Any other gets Remove for each
// name, one after the other (callers that want more run several
// RemoveMany at once), with all of Remove's rules. Over S3 a key names one
// object: removing a name that is a prefix removes nothing below it.
//
// A read-only wrapper (ReadOnly) cannot remove many at once either, so each
// existing file fails as Remove fails there.
func RemoveMany(fsys afero.Fs, names []string) []error {
	errs := make([]error, len(names))
	br, ok := fsys.(batchRemover)
	if !ok {
		for i, name := range names {
			errs[i] = Remove(fsys, name)
		}
		return errs
	}
	return onClean(names, errs, func(clean []string) []error {
		errs := br.RemoveKeys(clean)
		for j, err := range errs {
			if errors.Is(err, iofs.ErrNotExist) {
				errs[j] = nil
			}
		}
		return errs
	})
}

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

// batchRemover is a file system that removes many files in a few requests.
// RemoveKeys gets names already checked by CleanPath and returns one error
// per name.
type batchRemover interface {
	RemoveKeys(clean []string) []error
}
