//go:build unix && !linux && !aix

package fs

import "golang.org/x/sys/unix"

// statAt says what base in dirfd is, without following a final symlink.
// Without statx, a file's identity is its device, inode and change time.
func statAt(dirfd int, base string) (seen, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if err == unix.ENOENT || err == unix.ENAMETOOLONG {
			return seen{missing: true}, nil // no file can have such a name
		}
		return seen{}, err
	}
	return seen{
		dir:    st.Mode&unix.S_IFMT == unix.S_IFDIR,
		link:   st.Mode&unix.S_IFMT == unix.S_IFLNK,
		dev:    uint64(st.Dev),
		ino:    uint64(st.Ino),
		change: st.Ctim.Nano(),
		mtime:  st.Mtim.Nano(),
		size:   st.Size,
	}, nil
}
