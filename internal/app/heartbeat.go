package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cleanup-stale/cleanup-stale/store"
)

// The health state file is what every real run leaves for the ones
// watching it: when the last run started and finished, its exit status and
// its counts. `cleanup-stale health` (a container's HEALTHCHECK) reads it.
// See docs/operating.md, Monitoring.

// journalSuffix ends the pending-removal journal's name (package cleanup's
// own constant, which it does not export).
const journalSuffix = ".cleanup-stale-pending"

// healthSuffix ends the health state file's name.
const healthSuffix = ".cleanup-stale-health"

// healthPath is where db's health state file lives: beside its
// pending-removal journal, under the journal's name with its own suffix
// (db.sqlite3.cleanup-stale-health next to a SQLite database). This is the
// one place that decides it, so that the file follows the journal wherever
// the journal goes.
func (cfg config) healthPath(db store.DB, create bool) (string, error) {
	p, err := cfg.journalPath(db, create)
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(p, journalSuffix) {
		return "", fmt.Errorf("journal %s: unexpected name", p)
	}
	return strings.TrimSuffix(p, journalSuffix) + healthSuffix, nil
}

// stateVersion is the state file's format. A reader refuses another one.
const stateVersion = 1

// runState is the health state file's content, one JSON object. The
// counts, the exit status and the error are those of the last run that
// finished.
type runState struct {
	Version int `json:"version"`
	// Every is the interval of the loop (--every) that writes the file; a
	// one-off run keeps the loop's value. health derives its default
	// --max-age from it.
	Every duration `json:"every"`
	// Started is when the last run started; after Finished, that run is
	// still going (or died without a word).
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// ExitStatus is the last finished run's, as docs/troubleshooting.md's
	// Exit status defines it.
	ExitStatus int `json:"exit_status"`
	// Error is its error, in one line, when it failed for another reason
	// than files left behind (those are counted in Failed).
	Error   string `json:"error,omitempty"`
	Stale   int64  `json:"stale"`
	Deleted int64  `json:"deleted"`
	Failed  int64  `json:"failed"`
	Pending int64  `json:"pending"`
	// LastSuccess is when a run last finished with exit 0.
	LastSuccess time.Time `json:"last_success,omitzero"`
}

// running reports whether a run has started since the last one finished.
func (s *runState) running() bool { return s.Started.After(s.Finished) }

// duration is a time.Duration written as Go writes it ("5m0s").
type duration time.Duration

func (d duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = duration(v)
	return err
}

// maxStateSize bounds what a reader takes from the file: ours are a few
// hundred bytes.
const maxStateSize = 64 << 10

// errNoState means that no real run has written the state file yet.
var errNoState = errors.New("no run recorded yet")

// readState reads the state file at path. A symlink or anything else that
// is not a regular file is refused, not followed.
func readState(path string) (*runState, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", errNoState, path)
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateSize))
	if err != nil {
		return nil, err
	}
	var s runState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: not a state file: %v", path, err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("%s: state version %d, want %d", path, s.Version, stateVersion)
	}
	return &s, nil
}

// writeState replaces the state file at path atomically: a new file,
// mode 0600, written and synced under a temporary name in the same
// directory, then renamed over the old one. rename replaces whatever has
// the name, a symlink included, and never writes through it.
func writeState(path string, s *runState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
