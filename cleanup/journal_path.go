package cleanup

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cleanup-stale/cleanup-stale/internal/trust"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// journalSuffix ends the name of every journal file.
const journalSuffix = ".cleanup-stale-pending"

// JournalPath returns where the pending-removal journal of db lives:
//
//   - in stateDir, when one is given (--state-dir);
//   - else, for SQLite, next to the database, in the directory that SQLite
//     already needs writable for its own journal: db.sqlite3 gets
//     db.sqlite3.cleanup-stale-pending;
//   - else in systemd's $STATE_DIRECTORY (StateDirectory= in the unit);
//   - else in the user's XDG state directory, ~/.local/state/cleanup-stale,
//     which is created when create is set.
//
// A state directory (any but the database's own) that others may write is
// ErrJournal: see trust.Dir.
//
// The journal is named for the database's identity, not for the spelling
// that reached it, so that one database has one journal and one lock:
// next to a SQLite file, the name is the file's own, symlinks resolved
// (alias.sqlite3, a link to db.sqlite3, shares db.sqlite3's journal); in a
// shared directory, each database has its own file, named after the
// database and a hash of its identity (store.DB's Identity).
func JournalPath(db store.DB, stateDir string, create bool) (string, error) {
	name := db.Name()
	if db.Local() {
		real, err := realPath(name)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrJournal, err)
		}
		if stateDir == "" {
			return real + journalSuffix, nil
		}
		name = real
	}
	id := db.Identity()
	// A state directory is the tool's alone: it must be this user's and
	// writable by no one else (see trust.Dir, which says why the
	// database's own directory is not held to that).
	if stateDir != "" {
		if err := trust.Dir(stateDir); err != nil {
			return "", fmt.Errorf("%w: %v", ErrJournal, err)
		}
		return filepath.Join(stateDir, journalFile(name, id)), nil
	}
	dir, err := trust.StateDir(create)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrJournal, err)
	}
	return filepath.Join(dir, journalFile(name, id)), nil
}

// realPath is the absolute path of the file at name with every symlink
// resolved; name itself, made absolute, when there is no such file (an
// in-memory database).
func realPath(name string) (string, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	return abs, nil
}

// journalFile names the journal of the database called name, whose
// identity is id, in a shared directory: the last path element of its
// name, made safe, and a hash of its identity, e.g.
// printdesk-3f2a9c1e.cleanup-stale-pending.
func journalFile(name, id string) string {
	return hashedName(name, id)
}

// hashedName is the label of the database called name and a hash of key:
// what journals in a shared directory are called.
func hashedName(name, key string) string {
	sum := sha256.Sum256([]byte(key))
	return labelOf(name) + "-" + hex.EncodeToString(sum[:4]) + journalSuffix
}

// labelOf is the last path element of name, without a URL's query, made
// safe for a file name.
func labelOf(name string) string {
	label := name
	if i := strings.IndexAny(label, "?#"); i >= 0 {
		label = label[:i]
	}
	label = label[strings.LastIndexByte(label, '/')+1:]
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, label)
}
