package trust

import (
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Dir checks a state directory: the directory given with --state-dir,
// systemd's $STATE_DIRECTORY or the user's XDG state directory, which hold
// nothing but the tool's own files. Whoever else may write there can
// delete the journal (its files are then never removed), put a file at
// its name (every run refuses it) or at the name a compaction writes. So
// it must belong to this user or to root, and no one else may write it,
// unless it is sticky (others may then add names, but not remove or
// replace this user's) and this user's own. A symbolic link to a
// directory is checked as that directory.
//
// The directory of a SQLite database, where its journal sits by default,
// is not a state directory: it is the web app's, and may well be its
// group's to write. Whoever may write there can replace the database
// itself, which names every file a run removes, so the journal beside it
// is trusted as far as the database is, and the files' own checks
// suffice.
func Dir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return refuse("state directory %s: not a directory", dir)
	}
	st, ok := statOf(fi)
	if !ok {
		return nil
	}
	euid := os.Geteuid()
	if st.uid != euid && st.uid != 0 {
		return refuse("state directory %s belongs to user %d, not to this user (%d): another user could replace what the tool keeps there; "+
			"run as user %d, or use a directory of this user's (chown %d %s)", dir, st.uid, euid, st.uid, euid, dir)
	}
	sticky := fi.Mode()&iofs.ModeSticky != 0
	if fi.Mode().Perm()&0o022 != 0 && !(sticky && st.uid == euid) {
		return refuse("state directory %s is writable by others (mode %04o): they could delete or replace the tool's files there; chmod 0700 %s",
			dir, unixMode(fi.Mode()), dir)
	}
	return nil
}

// unixMode is m as chmod takes it, with the sticky bit.
func unixMode(m iofs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&iofs.ModeSticky != 0 {
		u |= 0o1000
	}
	if m&iofs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&iofs.ModeSetuid != 0 {
		u |= 0o4000
	}
	return u
}

// StateDir returns the tool's own state directory, where a database that
// is not a file on this host (PostgreSQL) keeps its journal and health
// state file: systemd's $STATE_DIRECTORY (StateDirectory= in the unit;
// the first, if it lists several), else the user's XDG state directory,
// ~/.local/state/cleanup-stale. With create, a missing XDG directory is
// created, mode 0700; one that exists is checked (see Dir). One that does
// not exist is returned as it is: there is nothing in it to trust.
func StateDir(create bool) (string, error) {
	if dirs := os.Getenv("STATE_DIRECTORY"); dirs != "" {
		dir, _, _ := strings.Cut(dirs, ":")
		return dir, existingDir(dir)
	}
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory: set --state-dir (%v)", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	dir := filepath.Join(base, "cleanup-stale")
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", err
		}
	}
	return dir, existingDir(dir)
}

// existingDir checks dir if it exists.
func existingDir(dir string) error {
	if _, err := os.Lstat(dir); os.IsNotExist(err) {
		return nil
	}
	return Dir(dir)
}
