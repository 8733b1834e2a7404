package cleanup

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/internal/trust"
)

// The journal tells a run which files to remove, so it is trusted only as
// far as the database is (package trust says how): a regular file, never
// a symlink, which could point the run's writes anywhere, never a FIFO,
// which would hang it, owned by the user who runs the tool, writable by no
// one else, and with no other name, through which another file would be
// written. Anything else is ErrJournal, exit status 2, with the reason,
// and nothing is created or changed.

// openNoFollow makes an open fail on a symlink and not wait on a FIFO.
const openNoFollow = trust.NoFollow

// isLink reports whether an open failed because openNoFollow met a link.
func isLink(err error) bool { return trust.IsLink(err) }

// openJournalFile opens the journal at name, for reading and writing
// (creating it, mode 0600) when write is set, else read-only, and checks
// that it can be trusted. created reports whether it did not exist.
func openJournalFile(fsys afero.Fs, name string, write bool) (f afero.File, created bool, err error) {
	flag := os.O_RDONLY | openNoFollow
	if write {
		flag = os.O_RDWR | openNoFollow
	}
	for attempt := 1; ; attempt++ {
		f, err = fsys.OpenFile(name, flag, 0)
		if !write || !errors.Is(err, iofs.ErrNotExist) {
			break
		}
		// O_EXCL: a name that appears meanwhile (a link planted there) is
		// never opened through. A journal that another run created
		// meanwhile (two runs start at once) is opened as it is, checked
		// like any other.
		f, err = fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|openNoFollow, 0o600)
		if created = err == nil; created || !errors.Is(err, iofs.ErrExist) || attempt == 3 {
			break
		}
	}
	if err != nil {
		if isLink(err) {
			return nil, false, fmt.Errorf("%w: %v", ErrJournal, trust.LinkRefused(name))
		}
		if errors.Is(err, iofs.ErrNotExist) && !write {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	if err := trusted(f, name); err != nil {
		f.Close()
		return nil, false, err
	}
	return f, created, nil
}

// trusted checks the open journal's type, owner, mode and links.
func trusted(f afero.File, name string) error {
	if err := trust.Check(f, name); err != nil {
		return fmt.Errorf("%w: %v", ErrJournal, err)
	}
	return nil
}

// createJournalTemp creates the new file that a compaction writes, mode
// 0600, never through a link that sits at its name.
func createJournalTemp(fsys afero.Fs, name string) (afero.File, error) {
	if err := fsys.Remove(name); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return nil, err
	}
	return fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|openNoFollow, 0o600)
}
