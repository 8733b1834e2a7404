//go:build unix && !linux

package fs

import (
	"errors"
	"io"
	iofs "io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// direntBuffer is the size of the buffer that readDirTypes does not use.
const direntBuffer = 0

// readDirTypes calls fn with the name and type (DT_*) of each entry of the
// directory d, through os.File.ReadDir, which reads the types that the
// system's directory entries carry. Unless regular is set, it skips the
// regular files. buf is not used: os.File.ReadDir has its own.
func readDirTypes(d *os.File, _ []byte, regular bool, fn func(name string, typ uint8) error) error {
	for {
		entries, err := d.ReadDir(4096)
		for _, e := range entries {
			typ := uint8(unix.DT_UNKNOWN)
			switch t := e.Type(); {
			case t&iofs.ModeSymlink != 0:
				typ = unix.DT_LNK
			case t.IsDir():
				typ = unix.DT_DIR
			case t.IsRegular():
				typ = unix.DT_REG
			}
			if typ == unix.DT_REG && !regular {
				continue
			}
			if err := fn(e.Name(), typ); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) || err == nil && len(entries) == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
