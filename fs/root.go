package fs

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"sync"
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
// Removing many uploads from a few directories is its hot path, so it keeps
// the directories it has opened (each one opened through os.Root, so just
// as confined) and removes a file with a single unlinkat in its directory,
// instead of walking every component of the path again.
type RootFs struct {
	root *os.Root

	mu   sync.Mutex
	dirs map[string]*openDir // by clean relative directory; bounded by maxCachedDirs
}

// openDir is one opened directory inside the root.
type openDir struct {
	root *os.Root // for Lstat and Remove
	file *os.File // the same directory, for unlinkat
}

func (d *openDir) close() {
	d.file.Close()
	d.root.Close()
}

// maxCachedDirs bounds the open directory handles. Uploads are filed by
// month (stl/2026/11/...), so a handful covers a whole run.
const maxCachedDirs = 64

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
	return &RootFs{root: root, dirs: map[string]*openDir{}}, nil
}

// Close releases the directory handles.
func (r *RootFs) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, d := range r.dirs {
		d.close()
		delete(r.dirs, k)
	}
	return r.root.Close()
}

// in returns the opened directory that holds name, and name's base in it.
func (r *RootFs) in(name string) (*openDir, string, error) {
	parent, base := path.Split(path.Clean(name))
	parent = path.Clean(parent)
	if base == "" || base == "." || base == ".." {
		return nil, "", &os.PathError{Op: "open", Path: name, Err: os.ErrInvalid}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if d, ok := r.dirs[parent]; ok {
		return d, base, nil
	}
	sub, err := r.root.OpenRoot(parent)
	if err != nil {
		return nil, "", err
	}
	f, err := sub.Open(".")
	if err != nil {
		sub.Close()
		return nil, "", err
	}
	if len(r.dirs) >= maxCachedDirs {
		for k, old := range r.dirs { // evict any one; the set is tiny
			old.close()
			delete(r.dirs, k)
			break
		}
	}
	d := &openDir{root: sub, file: f}
	r.dirs[parent] = d
	return d, base, nil
}

// Remove removes one file, or an empty directory, inside the root.
func (r *RootFs) Remove(name string) error { return r.root.Remove(name) }

// RemoveFile removes one file or symlink inside the root with a single
// unlinkat in its (cached) directory. It never removes a directory: the
// system call refuses one.
func (r *RootFs) RemoveFile(name string) error {
	d, base, err := r.in(name)
	if err != nil {
		return err
	}
	if err := unlinkat(d.file, base); err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

// LstatIfPossible describes name without following a final symlink.
func (r *RootFs) LstatIfPossible(name string) (iofs.FileInfo, bool, error) {
	if path.Clean(name) == "." {
		fi, err := r.root.Lstat(".")
		return fi, true, err
	}
	d, base, err := r.in(name)
	if err != nil {
		return nil, true, err
	}
	fi, err := d.root.Lstat(base)
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
