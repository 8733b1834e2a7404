package fs

import "github.com/spf13/afero"

// Unwrapper is a file system that wraps another and says which, as
// errors.Unwrap does for errors: a fault injector in a test, a logging or
// metering wrapper. Package fs looks through such wrappers for what only
// the file system underneath knows, so that wrapping a RootFs keeps its
// guarantees: a file's identity (Keys compares files by device and inode,
// not by spelling), and whether a removal would be refused (Check, and
// Remove before it removes: a directory, or a link to one, is never
// removed). Removals themselves still go through the wrapper.
//
// A wrapper that does not say what it wraps is taken for what it is: an
// afero.Fs whose files are known by their clean paths.
type Unwrapper interface {
	Unwrap() afero.Fs
}

// beneath returns the first file system, fsys itself or one that it wraps
// (through Unwrapper, to any depth), that is a T.
func beneath[T any](fsys afero.Fs) (T, bool) {
	for fsys != nil {
		if t, ok := fsys.(T); ok {
			return t, true
		}
		u, ok := fsys.(Unwrapper)
		if !ok {
			break
		}
		fsys = u.Unwrap()
	}
	var zero T
	return zero, false
}
