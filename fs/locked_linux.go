package fs

import "golang.org/x/sys/unix"

// locked tells whether entry in dirfd ("" for the directory itself) is
// immutable or append-only (chattr +i, +a): unlinking it, or from it,
// fails even for root. Linux reports both as statx attributes.
func locked(dirfd int, entry string) (bool, error) {
	var st unix.Statx_t
	flags := unix.AT_SYMLINK_NOFOLLOW
	if entry == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	if err := unix.Statx(dirfd, entry, flags, 0, &st); err != nil {
		return false, err
	}
	const attrs = unix.STATX_ATTR_IMMUTABLE | unix.STATX_ATTR_APPEND
	return st.Attributes_mask&attrs != 0 && st.Attributes&attrs != 0, nil
}
