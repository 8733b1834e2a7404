package app

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	"github.com/cleanup-stale/cleanup-stale/internal/trust"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// notLockingOut refuses a real run as root on an install that belongs to
// another user: the journal it would write (mode 0600, root's) would lock
// that user's runs, the timer's included, out of it (docs/operating.md).
// The install's user is the SQLite database's owner, or the owner of the
// state directory where the journal goes.
func notLockingOut(db store.DB, journal string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	path, what := filepath.Dir(journal), "the state directory "+filepath.Dir(journal)
	if db.Local() && filepath.Dir(journal) == filepath.Dir(realOrSame(db.Name())) {
		path, what = db.Name(), "the database "+db.Name()
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil // the journal's own checks say what is wrong
	}
	owner, ok := trust.Owner(fi)
	if !ok || owner == 0 {
		return nil
	}
	name := strconv.Itoa(owner)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	return usageError{fmt.Errorf("running as root, but %s belongs to user %d (%s): a journal written now would be root's, "+
		"and lock that user's runs out of it: run it as that user (sudo -u %s)", what, owner, name, name)}
}

// realOrSame is path with its symlinks resolved, or path.
func realOrSame(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	return path
}
