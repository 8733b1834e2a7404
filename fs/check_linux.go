package fs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// CheckRemove tells whether unlinking clean would fail now, as far as the
// kernel lets a process see without trying. A missing file is fine. The
// path must not be a directory, nor lead through a symlink out of the
// root; the directory must be writable and searchable by this user
// (faccessat, which also refuses an immutable directory or a read-only
// mount); and neither the directory nor the file may be immutable or
// append-only (statx attributes), which even root cannot unlink from.
func (r *RootFs) CheckRemove(clean string) error {
	d, base, err := r.in(clean)
	if errors.Is(err, os.ErrNotExist) {
		return nil // no directory, no file: gone already
	}
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
		var st unix.Statx_t
		switch err := unix.Statx(dirfd, base, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE, &st); {
		case errors.Is(err, unix.ENOENT):
			return // gone already
		case err != nil:
			cerr = &os.PathError{Op: "remove", Path: clean, Err: err}
			return
		case st.Mode&unix.S_IFMT == unix.S_IFDIR:
			cerr = fmt.Errorf("%w: %s is a directory", ErrUnsafePath, clean)
			return
		}
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
