//go:build unix

package fs

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxKeyDirs bounds the directories a rootKeys keeps open. Uploads are
// filed by month, so a few cover a whole table; rows that each name
// another directory only make it reopen.
const maxKeyDirs = 256

type rootKeys struct {
	r    *RootFs
	dirs map[string]*keyDir
}

// keyDir is an open directory and its identity.
type keyDir struct {
	file     *os.File
	dev, ino uint64
}

// stat describes base in d (fstatat with flags).
func (d *keyDir) stat(base string, st *unix.Stat_t, flags int) error {
	conn, err := d.file.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := conn.Control(func(fd uintptr) { serr = unix.Fstatat(int(fd), base, st, flags) }); err != nil {
		return err
	}
	return serr
}

func newRootKeys(r *RootFs) *rootKeys { return &rootKeys{r: r, dirs: map[string]*keyDir{}} }

func (k *rootKeys) Key(name string) string {
	clean, err := CleanPath(name)
	if err != nil {
		return "?" + name // never removed, so never compared for removal
	}
	parent, base := splitName(clean)
	d, err := k.dir(parent)
	if err != nil {
		return "t:" + clean // no such directory inside the root: no file to share
	}
	var st unix.Stat_t
	err = d.stat(base, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case err != nil:
		return fmt.Sprintf("d:%x:%x/%s", d.dev, d.ino, base)
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		var target unix.Stat_t
		if err := d.stat(base, &target, 0); err != nil {
			return fmt.Sprintf("d:%x:%x/%s", d.dev, d.ino, base) // dangling: the link itself
		}
		return fmt.Sprintf("f:%x:%x", uint64(target.Dev), uint64(target.Ino))
	}
	return fmt.Sprintf("f:%x:%x", uint64(st.Dev), uint64(st.Ino))
}

// dir opens parent through the root (following symlinks that stay inside
// it), or returns it from the cache.
func (k *rootKeys) dir(parent string) (*keyDir, error) {
	if d, ok := k.dirs[parent]; ok {
		return d, nil
	}
	f, err := k.r.root.Open(parent)
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
		return nil, fmt.Errorf("%s: not a directory", parent)
	}
	if len(k.dirs) >= maxKeyDirs {
		k.Close()
	}
	d := &keyDir{file: f, dev: uint64(sys.Dev), ino: uint64(sys.Ino)}
	k.dirs[parent] = d
	return d, nil
}

func (k *rootKeys) Close() error {
	for p, d := range k.dirs {
		d.file.Close()
		delete(k.dirs, p)
	}
	return nil
}
