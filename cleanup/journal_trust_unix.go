//go:build unix

package cleanup

import (
	"errors"
	iofs "io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// openNoFollow makes an open fail on a symlink (O_NOFOLLOW), and not wait
// on a FIFO (O_NONBLOCK), so that the type check can refuse it.
const openNoFollow = unix.O_NOFOLLOW | unix.O_NONBLOCK

// isLink reports whether an open failed because O_NOFOLLOW met a link.
func isLink(err error) bool { return errors.Is(err, unix.ELOOP) }

// fileOwner returns the owner of a file on disk.
func fileOwner(fi iofs.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}
