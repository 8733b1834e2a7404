package fs

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"time"

	"github.com/spf13/afero"
)

// ErrNoMediaRoot means MEDIA_ROOT does not exist or is not a directory.
var ErrNoMediaRoot = errors.New("MEDIA_ROOT not usable")

// RootFs is an afero.Fs confined to one directory by os.Root: no name, be
// it "../x", an absolute path or a walk through a symlinked directory that
// points outside, can reach a file outside the directory. Such an attempt
// fails with an error and touches nothing.
//
// It keeps no directory open between two calls: each removal resolves its
// path inside the root at that moment, so that a directory that an
// archiver moves out of MEDIA_ROOT during a run is not followed there, and
// no handle is ever shared between the removal workers. Opening a
// directory costs a few microseconds; unlinking a file costs a hundred or
// more.
type RootFs struct {
	root *os.Root
}

// NewRootFs opens dir as a confined file system. A missing dir, or one that
// is not a directory, is ErrNoMediaRoot.
func NewRootFs(dir string) (*RootFs, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoMediaRoot, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory", ErrNoMediaRoot, dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoMediaRoot, err)
	}
	return &RootFs{root: root}, nil
}

// Close releases the root.
func (r *RootFs) Close() error { return r.root.Close() }

// splitName splits a clean relative name into its directory ("." at the
// top) and its last element.
func splitName(clean string) (dir, base string) {
	dir, base = path.Split(clean)
	return path.Clean(dir), base
}

// Remove removes one file, or an empty directory, inside the root.
func (r *RootFs) Remove(name string) error { return r.root.Remove(name) }

// LstatIfPossible describes name without following a final symlink.
func (r *RootFs) LstatIfPossible(name string) (iofs.FileInfo, bool, error) {
	fi, err := r.root.Lstat(name)
	return fi, true, err
}

// Name names the file system.
func (r *RootFs) Name() string { return "RootFs" }

// Create creates or truncates name.
func (r *RootFs) Create(name string) (afero.File, error) { return wrapFile(r.root.Create(name)) }

// Mkdir creates a directory.
func (r *RootFs) Mkdir(name string, perm os.FileMode) error { return r.root.Mkdir(name, perm) }

// MkdirAll creates a directory and its parents.
func (r *RootFs) MkdirAll(name string, perm os.FileMode) error { return r.root.MkdirAll(name, perm) }

// Open opens name for reading.
func (r *RootFs) Open(name string) (afero.File, error) { return wrapFile(r.root.Open(name)) }

// OpenFile opens name with the given flags.
func (r *RootFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	return wrapFile(r.root.OpenFile(name, flag, perm))
}

// RemoveAll removes name and everything below it.
func (r *RootFs) RemoveAll(name string) error { return r.root.RemoveAll(name) }

// Rename renames a file within the root.
func (r *RootFs) Rename(oldname, newname string) error { return r.root.Rename(oldname, newname) }

// Stat describes name, following symlinks that stay inside the root.
func (r *RootFs) Stat(name string) (iofs.FileInfo, error) { return r.root.Stat(name) }

// Chmod changes the mode of name.
func (r *RootFs) Chmod(name string, mode os.FileMode) error { return r.root.Chmod(name, mode) }

// Chown changes the owner of name.
func (r *RootFs) Chown(name string, uid, gid int) error { return r.root.Chown(name, uid, gid) }

// Chtimes changes the times of name.
func (r *RootFs) Chtimes(name string, atime, mtime time.Time) error {
	return r.root.Chtimes(name, atime, mtime)
}

// wrapFile avoids handing afero a typed nil *os.File inside a non-nil
// interface when the open failed.
func wrapFile(f *os.File, err error) (afero.File, error) {
	if err != nil {
		return nil, err
	}
	return f, nil
}

var (
	_ afero.Fs      = (*RootFs)(nil)
	_ afero.Lstater = (*RootFs)(nil)
)
