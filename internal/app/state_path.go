package app

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/cleanup-stale/cleanup-stale/internal/trust"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// journalSuffix ends the pending-removal journal's name (package
// cleanup's own constant, which it does not export); healthSuffix ends
// the health state file's, which sits beside it.
const (
	journalSuffix = ".cleanup-stale-pending"
	healthSuffix  = ".cleanup-stale-health"
)

// healthPath is where the health state file of the database that cfg
// names lives (docs/operating.md, Monitoring):
//
//   - next to a SQLite database, under its name, symlinks resolved:
//     db.sqlite3.cleanup-stale-health, beside its journal;
//   - else in the state directory, where the journal goes too: --state-dir,
//     or for PostgreSQL $STATE_DIRECTORY, else the XDG state directory
//     (created when create is set), under the database's name and a hash
//     of its spelling (its URL without the password).
//
// It is decided from the settings alone, never from an open database, so
// that a run that cannot open its database (a file it may not write, a
// role without DELETE, a server that times out) still records how it
// ended, and health finds the file without opening the database. A state
// directory that others may write is refused (see trust.Dir), for health
// and the runs alike.
func (cfg config) healthPath(create bool) (string, error) {
	if !store.IsPostgres(cfg.db) {
		real := realPath(cfg.db)
		if cfg.stateDir == "" {
			return real + healthSuffix, nil
		}
		if err := trust.Dir(cfg.stateDir); err != nil {
			return "", err
		}
		return filepath.Join(cfg.stateDir, stateFileName(real, "sqlite:"+real)), nil
	}
	dir := cfg.stateDir
	var err error
	if dir == "" {
		dir, err = trust.StateDir(create)
	} else {
		err = trust.Dir(dir)
	}
	if err != nil {
		return "", err
	}
	spelling := store.DisplayName(cfg.db)
	label := spelling
	if u, err := url.Parse(spelling); err == nil {
		label = u.Path
	}
	return filepath.Join(dir, stateFileName(label, spelling)), nil
}

// realPath is the absolute path of the file at name with every symlink
// resolved, so that two spellings of one file share one state file; name
// itself, made absolute, when there is no such file.
func realPath(name string) string {
	abs, err := filepath.Abs(name)
	if err != nil {
		return name
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

// stateFileName names a state file in a shared directory: the last path
// element of label, made safe, and a hash of key, e.g.
// printdesk-3f2a9c1e.cleanup-stale-health.
func stateFileName(label, key string) string {
	sum := sha256.Sum256([]byte(key))
	label = label[strings.LastIndexByte(label, '/')+1:]
	label = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, label)
	return label + "-" + hex.EncodeToString(sum[:4]) + healthSuffix
}
