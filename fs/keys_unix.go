//go:build unix

package fs

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// rootKeys keys the files of a RootFs by device and inode.
type rootKeys struct {
	dirs *dirs
}

func newRootKeys(r *RootFs) *rootKeys { return &rootKeys{dirs: newDirs(r.root)} }

func (k *rootKeys) Key(name string) string {
	clean, err := CleanPath(name)
	if err != nil {
		return "?" + name // never removed, so never compared for removal
	}
	var key string
	err = k.dirs.in(clean, func(d *dir, base string) error {
		var st unix.Stat_t
		switch err := unix.Fstatat(d.fd, base, &st, 0); {
		case err == nil:
			key = fmt.Sprintf("f:%x:%x", uint64(st.Dev), uint64(st.Ino))
		case unix.Fstatat(d.fd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil:
			// A dangling link, or one that cannot be followed: the link
			// itself.
			key = fmt.Sprintf("f:%x:%x", uint64(st.Dev), uint64(st.Ino))
		default: // missing: the name in its directory
			key = fmt.Sprintf("d:%x:%x/%s", d.dev, d.ino, base)
		}
		return nil
	})
	if err != nil {
		// os.Root refuses the directory (an absolute symlink that points
		// back inside, say), yet the web app follows it: ask the kernel,
		// which only reads. Unresolvable: the clean path.
		return k.kernelKey(clean)
	}
	return key
}

// kernelKey keys clean as the kernel resolves it from the root, following
// every symlink: a key is only ever read.
func (k *rootKeys) kernelKey(clean string) string {
	var key string
	err := k.dirs.in("./x", func(root *dir, _ string) error {
		var st unix.Stat_t
		if err := unix.Fstatat(root.fd, clean, &st, 0); err != nil {
			return err
		}
		key = fmt.Sprintf("f:%x:%x", uint64(st.Dev), uint64(st.Ino))
		return nil
	})
	if err != nil {
		return "t:" + clean
	}
	return key
}

func (k *rootKeys) Close() error {
	k.dirs.close()
	return nil
}
