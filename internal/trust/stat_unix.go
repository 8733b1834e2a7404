//go:build unix

package trust

import (
	"errors"
	iofs "io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// NoFollow makes an open fail on a symbolic link (O_NOFOLLOW), and not
// wait on a FIFO (O_NONBLOCK), so that Check can refuse it.
const NoFollow = unix.O_NOFOLLOW | unix.O_NONBLOCK

// IsLink reports whether an open with NoFollow failed because it met a
// symbolic link.
func IsLink(err error) bool { return errors.Is(err, unix.ELOOP) }

// fileStat is what the checks need of a file's inode.
type fileStat struct {
	uid   int
	nlink uint64
}

// statOf returns the owner and link count of a file on disk.
func statOf(fi iofs.FileInfo) (fileStat, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStat{}, false
	}
	return fileStat{uid: int(st.Uid), nlink: uint64(st.Nlink)}, true
}

// Owner returns the uid that owns the file fi describes.
func Owner(fi iofs.FileInfo) (uid int, ok bool) {
	st, ok := statOf(fi)
	return st.uid, ok
}
