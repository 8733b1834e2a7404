//go:build unix

package cleanup

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// flock locks f with flock(2), without waiting.
func flock(f *os.File, name string) (unlock func(), err error) {
	fd := int(f.Fd())
	switch err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); {
	case errors.Is(err, unix.EWOULDBLOCK):
		return nil, fmt.Errorf("%w (it holds %s)", ErrJournalBusy, name)
	case err != nil:
		return nil, fmt.Errorf("%w: lock %s: %v", ErrJournal, name, err)
	}
	return func() { unix.Flock(fd, unix.LOCK_UN) }, nil
}
