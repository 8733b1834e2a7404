package cleanup

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/spf13/afero"
)

// lockFile takes an exclusive lock on f for as long as the run uses the
// journal, and fails with ErrJournalBusy at once if another run holds it.
// A file on disk gets flock(2), which the kernel drops when the process
// dies, kill -9 included. A file in memory (tests) gets a lock in this
// process, by file system and name.
func lockFile(fsys afero.Fs, name string, f afero.File) (unlock func(), err error) {
	if osf, ok := f.(*os.File); ok {
		return flock(osf, name)
	}
	key := memLockKey{fsys, name}
	if _, held := memLocks.LoadOrStore(key, true); held {
		return nil, fmt.Errorf("%w (it holds %s)", ErrJournalBusy, name)
	}
	return func() { memLocks.Delete(key) }, nil
}

type memLockKey struct {
	fsys afero.Fs
	name string
}

var memLocks sync.Map

// sameFile reports whether f is still the file at name: a journal is
// replaced by rename when it is compacted. In memory, where locks go by
// name, it always is.
func sameFile(fsys afero.Fs, f afero.File, name string) (bool, error) {
	osf, ok := f.(*os.File)
	if !ok {
		return true, nil
	}
	a, err := osf.Stat()
	if err != nil {
		return false, err
	}
	b, err := fsys.Stat(name)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// syncDir fsyncs a directory, so that a file created or renamed in it
// survives a power loss.
func syncDir(fsys afero.Fs, dir string) error {
	d, err := fsys.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
