package fs

import "golang.org/x/sys/unix"

// statAt says what base in dirfd is, without following a final symlink:
// one statx, which also gives the birth time where the file system keeps
// one (ext4, xfs, btrfs, tmpfs).
func statAt(dirfd int, base string) (seen, error) {
	var st unix.Statx_t
	const mask = unix.STATX_BASIC_STATS | unix.STATX_BTIME
	if err := unix.Statx(dirfd, base, unix.AT_SYMLINK_NOFOLLOW, mask, &st); err != nil {
		if err == unix.ENOENT || err == unix.ENAMETOOLONG {
			return seen{missing: true}, nil // no file can have such a name
		}
		return seen{}, err
	}
	s := seen{
		dir:    st.Mode&unix.S_IFMT == unix.S_IFDIR,
		link:   st.Mode&unix.S_IFMT == unix.S_IFLNK,
		dev:    unix.Mkdev(st.Dev_major, st.Dev_minor),
		ino:    st.Ino,
		change: st.Ctime.Sec*1e9 + int64(st.Ctime.Nsec),
		mtime:  st.Mtime.Sec*1e9 + int64(st.Mtime.Nsec),
		size:   int64(st.Size),
	}
	if st.Mask&unix.STATX_BTIME != 0 {
		s.birth, s.hasBirth = st.Btime.Sec*1e9+int64(st.Btime.Nsec), true
	}
	return s, nil
}
