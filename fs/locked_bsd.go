//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package fs

import "golang.org/x/sys/unix"

// The file flags that forbid an unlink (chflags uchg, schg, uappnd,
// sappnd). Their values are 4.4BSD's, the same in every BSD's and macOS's
// <sys/stat.h>; golang.org/x/sys/unix names them for darwin only.
const (
	ufImmutable = 0x00000002
	ufAppend    = 0x00000004
	sfImmutable = 0x00020000
	sfAppend    = 0x00040000
)

// locked tells whether entry in dirfd ("" for the directory itself) is
// immutable or append-only: unlinking it, or from it, fails even for root,
// as on Linux. The BSDs and macOS keep these as file flags (st_flags).
func locked(dirfd int, entry string) (bool, error) {
	var st unix.Stat_t
	var err error
	if entry == "" {
		err = unix.Fstat(dirfd, &st)
	} else {
		err = unix.Fstatat(dirfd, entry, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return false, err
	}
	return uint64(st.Flags)&(ufImmutable|ufAppend|sfImmutable|sfAppend) != 0, nil
}
