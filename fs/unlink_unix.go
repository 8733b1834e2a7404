//go:build unix

package fs

import (
	"os"

	"golang.org/x/sys/unix"
)

// unlinkat removes the non-directory entry base of the open directory dir.
func unlinkat(dir *os.File, base string) error {
	conn, err := dir.SyscallConn()
	if err != nil {
		return err
	}
	var uerr error
	if err := conn.Control(func(fd uintptr) { uerr = unix.Unlinkat(int(fd), base, 0) }); err != nil {
		return err
	}
	return uerr
}
