package fs

import (
	"os"

	"golang.org/x/sys/unix"
)

// CheckRemove tells whether unlinking clean (a checked, existing path in
// the root) would fail now, as far as the kernel lets a process see
// without trying: the directory must be writable and searchable by this
// user (faccessat, which also refuses an immutable directory or a
// read-only mount), and neither the directory nor the file may be
// immutable or append-only (statx attributes), which even root cannot
// unlink from.
func (r *RootFs) CheckRemove(clean string) error {
	d, base, err := r.in(clean)
	if err != nil {
		return err
	}
	conn, err := d.file.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	err = conn.Control(func(fd uintptr) {
		dirfd := int(fd)
		if err := unix.Faccessat(dirfd, ".", unix.W_OK|unix.X_OK, unix.AT_EACCESS); err != nil {
			cerr = &os.PathError{Op: "remove", Path: clean, Err: err}
			return
		}
		for _, name := range []string{"", base} {
			var st unix.Statx_t
			flags := unix.AT_SYMLINK_NOFOLLOW
			if name == "" {
				flags |= unix.AT_EMPTY_PATH
			}
			if err := unix.Statx(dirfd, name, flags, 0, &st); err != nil {
				cerr = &os.PathError{Op: "remove", Path: clean, Err: err}
				return
			}
			const locked = unix.STATX_ATTR_IMMUTABLE | unix.STATX_ATTR_APPEND
			if st.Attributes_mask&locked != 0 && st.Attributes&locked != 0 {
				cerr = &os.PathError{Op: "remove", Path: clean, Err: unix.EPERM}
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return cerr
}
