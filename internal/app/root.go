package app

import (
	"fmt"
	"os"
	"os/user"
	"strconv"

	"github.com/cleanup-stale/cleanup-stale/internal/trust"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// notLockingOut refuses a real run or sweep as root on an install that
// belongs to another user, before it opens or writes anything: the
// journal and the health state file it would write (mode 0600, root's)
// would lock that user's runs, the timer's included, out of them
// (docs/operating.md). The install's user is the SQLite database's owner,
// or, for PostgreSQL, the owner of the state directory. A sudo shell has
// no $STATE_DIRECTORY: there, root's own state directory is root's, and
// root's runs keep their journal apart.
func (cfg config) notLockingOut() error {
	if os.Geteuid() != 0 {
		return nil
	}
	path, what := "", ""
	switch {
	case !store.IsPostgres(cfg.db):
		path = realPath(cfg.db)
		what = "the database " + path
	case cfg.stateDir != "":
		path, what = cfg.stateDir, "the state directory "+cfg.stateDir
	default:
		dir, err := trust.StateDir(false)
		if err != nil {
			return nil // the journal's own checks say what is wrong
		}
		path, what = dir, "the state directory "+dir
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil // the run's own checks say what is wrong
	}
	owner, ok := trust.Owner(fi)
	if !ok || owner == 0 {
		return nil
	}
	name := strconv.Itoa(owner)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	return usageError{fmt.Errorf("running as root, but %s belongs to user %d (%s): a journal or state file written now would be root's, "+
		"and lock that user's runs out of it: run it as that user (sudo -u %s)", what, owner, name, name)}
}
