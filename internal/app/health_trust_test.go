//go:build unix

package app

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestHealthStateNotTrusted: the health state file follows the journal's
// trust rules (docs/operating.md, Monitoring). A file that claims a fresh
// success is not believed when others may write it, when it belongs to
// another user, when it has another name (a hard link), or when it is a
// FIFO (which health must not hang on), nor in a state directory that
// others may write: health is unhealthy, and says why and what to do.
// Health used to believe the first three.
func TestHealthStateNotTrusted(t *testing.T) {
	t0 := time.Now().UTC().Add(-time.Minute)
	claim := &runState{Version: stateVersion, Started: t0, Finished: t0, LastSuccess: t0, Stale: 66, Deleted: 66}
	for _, c := range []struct {
		name  string
		root  bool // needs root
		plant func(t *testing.T, path string)
		says  []string
	}{
		{"mode 0666", false, func(t *testing.T, path string) { writeClaim(t, path, claim); os.Chmod(path, 0o666) },
			[]string{"writable by others (mode 0666)", "chmod 0600"}},
		{"mode 0620", false, func(t *testing.T, path string) { writeClaim(t, path, claim); os.Chmod(path, 0o620) },
			[]string{"writable by others (mode 0620)"}},
		{"another user's", true, func(t *testing.T, path string) { writeClaim(t, path, claim); os.Chown(path, 65534, 65534) },
			[]string{"belongs to user 65534"}},
		{"a hard link", false, func(t *testing.T, path string) {
			other := filepath.Join(t.TempDir(), "other")
			writeClaim(t, other, claim)
			if err := os.Link(other, path); err != nil {
				t.Fatal(err)
			}
		}, []string{"has 2 links"}},
		{"a FIFO", false, func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"not a regular file (a named pipe)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.root && os.Geteuid() != 0 {
				t.Skip("needs root, to give the file away")
			}
			dir := install(t)
			db := filepath.Join(dir, "db.sqlite3")
			path := db + ".cleanup-stale-health"
			c.plant(t, path)
			healthSays(t, runCLI(t, "--db", db, "health", "--max-age", "1h"), false, append([]string{path}, c.says...)...)
		})
	}

	t.Run("state directory writable by others", func(t *testing.T) {
		dir, state := install(t), t.TempDir()
		db := filepath.Join(dir, "db.sqlite3")
		if r := runCLI(t, "--db", db, "--media-root", filepath.Join(dir, "media"), "--now", refNow, "--state-dir", state); r.code != 0 {
			t.Fatalf("run: exit %d, %q", r.code, r.stderr)
		}
		healthSays(t, runCLI(t, "--db", db, "--state-dir", state, "health", "--max-age", "1h"), true)
		os.Chmod(state, 0o777)
		healthSays(t, runCLI(t, "--db", db, "--state-dir", state, "health", "--max-age", "1h"), false, "state directory "+state, "chmod 0700")
	})
}

// writeClaim writes s at path as a run would.
func writeClaim(t *testing.T, path string, s *runState) {
	t.Helper()
	if err := writeState(path, s); err != nil {
		t.Fatal(err)
	}
}
