package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/internal/trust"
)

// The health state file is what every real run leaves for the ones
// watching it: when the last run started and finished, its exit status and
// its counts. `cleanup-stale health` (a container's HEALTHCHECK) reads it.
// See docs/operating.md, Monitoring; state_path.go says where it lives.

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

// readState reads the state file at path, if it can be trusted as the
// journal is (see package trust): a symlink is refused, not followed, a
// FIFO does not hang the reader, and a file that another user owns, that
// others may write, or that has another name, is not believed.
func readState(path string) (*runState, error) {
	f, err := trust.OpenFile(afero.NewOsFs(), path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", errNoState, path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateSize))
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%s is empty: the last run could not finish writing it (a full disk?)", path)
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

// writeState writes s to the state file at path. It replaces the file
// atomically when it can: a new file, mode 0600, written and synced under
// a temporary name in the same directory, then renamed over the old one
// (rename replaces whatever has the name, a symlink or a hard link
// included, and never writes through it). Where it cannot (a directory
// the user may no longer write, a full disk), it rewrites the existing
// file in place, if that file can be trusted: a run's end must reach
// health, and a write torn by a crash reads as unhealthy, never as
// healthy.
func writeState(path string, s *runState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	err = replaceState(path, b)
	if err == nil {
		return nil
	}
	if ierr := rewriteState(path, b); ierr != nil {
		if errors.Is(ierr, os.ErrNotExist) {
			return err
		}
		return fmt.Errorf("%w; nor in place: %v", err, ierr)
	}
	return nil
}

// replaceState writes b to a new file and renames it to path.
func replaceState(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
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

// rewriteState writes b over the trusted file at path.
func rewriteState(path string, b []byte) error {
	f, err := trust.OpenFile(afero.NewOsFs(), path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(b, 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
