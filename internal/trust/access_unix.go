//go:build unix && !aix

// AIX is left out: golang.org/x/sys/unix has no AT_EACCESS there (as in
// package fs's removal check).

package trust

import (
	"os"

	"golang.org/x/sys/unix"
)

// Writable tells whether this user, by its effective uid and groups, may
// write path as the kernel would judge a write now: its mode, its owner,
// a read-only mount. For a directory, that is adding and removing names
// in it.
func Writable(path string) error {
	mode := uint32(unix.W_OK)
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		mode |= unix.X_OK
	}
	if err := unix.Faccessat(unix.AT_FDCWD, path, mode, unix.AT_EACCESS); err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	return nil
}
