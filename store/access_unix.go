//go:build unix

package store

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// checkAccess fails with ErrAccess, before SQLite is involved, when this
// user cannot read the database, or, for a run that deletes, cannot write
// it or create the journal that SQLite writes next to it. SQLite itself
// would only say "unable to open database file", or fail mid-run.
func checkAccess(path string, readOnly bool) error {
	if err := unix.Access(path, unix.R_OK); err != nil {
		return fmt.Errorf("%w: cannot read %s: %v", ErrAccess, path, err)
	}
	if readOnly {
		return nil
	}
	if err := unix.Access(path, unix.W_OK); err != nil {
		return fmt.Errorf("%w: cannot write %s: %v", ErrAccess, path, err)
	}
	if dir := filepath.Dir(path); unix.Access(dir, unix.W_OK|unix.X_OK) != nil {
		return fmt.Errorf("%w: cannot write in %s, where SQLite keeps its journal", ErrAccess, dir)
	}
	return nil
}

// fileIdentity names the file that fi describes by its device and inode.
func fileIdentity(fi fs.FileInfo, path string) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("sqlite:%d:%d", uint64(st.Dev), uint64(st.Ino))
	}
	return "sqlite-path:" + path
}
