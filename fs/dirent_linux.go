package fs

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// direntBuffer is the size of readDirTypes' buffer: some four thousand
// uploads' entries a read.
const direntBuffer = 256 << 10

// readDirTypes calls fn with the name and type (DT_*) of each entry of the
// directory d but "." and "..", reading the entries a large buffer at a
// time with getdents64 and asking nothing else of the kernel: a directory
// of a hundred thousand uploads costs a few system calls. Unless regular
// is set, it skips the regular files, without making a string of their
// names: a walk for links and directories wants none of the uploads. buf
// is where the entries are read, and can serve every directory of a walk.
func readDirTypes(d *os.File, buf []byte, regular bool, fn func(name string, typ uint8) error) error {
	fd := int(d.Fd())
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		for off := 0; off < n; {
			// struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16,
			// d_type u8, d_name NUL-terminated.
			reclen := int(*(*uint16)(unsafe.Pointer(&buf[off+16])))
			typ := buf[off+18]
			if typ == unix.DT_REG && !regular {
				off += reclen
				continue
			}
			name := buf[off+19 : off+reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			off += reclen
			if s := string(name); s != "." && s != ".." {
				if err := fn(s, typ); err != nil {
					return err
				}
			}
		}
	}
}
