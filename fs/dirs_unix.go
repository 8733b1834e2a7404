//go:build unix

package fs

import (
	"errors"
	"os"
	"syscall"
)

// dirs is the directories that one call has opened through the root, by
// clean relative path: a call that works through many names (a batch's
// removals, its checks, a scan's keys) opens each directory once, not once
// per name, which would cost a few system calls per path element.
//
// A dirs belongs to one call in one goroutine and is closed at its end. So
// no handle is shared between workers, and none outlives a batch: a
// directory that an archiver moves out of MEDIA_ROOT is not followed there
// by the next batch, which opens the path afresh.
type dirs struct {
	root   *os.Root
	opened map[string]*dir
}

// dir is an open directory and its identity.
type dir struct {
	file     *os.File
	fd       int
	dev, ino uint64
}

// maxOpenDirs bounds the directories a dirs keeps open. Uploads are filed
// by month, so a few cover a batch; rows that each name another directory
// only make it reopen.
const maxOpenDirs = 256

func newDirs(root *os.Root) *dirs { return &dirs{root: root, opened: map[string]*dir{}} }

// in calls fn with the directory that holds name (a clean relative path)
// and name's last element. A directory that does not exist is an error
// that satisfies errors.Is(err, iofs.ErrNotExist).
func (c *dirs) in(name string, fn func(d *dir, base string) error) error {
	parent, base := splitName(name)
	if base == "" || base == "." || base == ".." {
		return &os.PathError{Op: "open", Path: name, Err: os.ErrInvalid}
	}
	d, err := c.open(parent)
	if err != nil {
		return err
	}
	return fn(d, base)
}

// open opens parent through the root (following symlinks that stay
// inside it), or returns it from the call's cache.
func (c *dirs) open(parent string) (*dir, error) {
	if d, ok := c.opened[parent]; ok {
		return d, nil
	}
	f, err := c.root.Open(parent)
	if errors.Is(err, syscall.ENAMETOOLONG) {
		// No directory can have such a name, so none is there.
		return nil, &os.PathError{Op: "open", Path: parent, Err: os.ErrNotExist}
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	sys, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.IsDir() {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: parent, Err: syscall.ENOTDIR}
	}
	if len(c.opened) >= maxOpenDirs {
		c.close()
	}
	// The descriptor stays valid while f is open, which the cache ensures.
	d := &dir{file: f, fd: int(f.Fd()), dev: uint64(sys.Dev), ino: uint64(sys.Ino)}
	c.opened[parent] = d
	return d, nil
}

func (c *dirs) close() {
	for p, d := range c.opened {
		d.file.Close()
		delete(c.opened, p)
	}
}
