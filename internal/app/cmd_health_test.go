package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestHealthStateFile: the first real run that succeeds leaves the state
// file beside its pending-removal journal, mode 0600, with its counts and
// exit status; health reads it; a failed run then updates it, keeping the
// time of the last success. A dry run writes nothing, nor does a run that
// fails before any has succeeded.
func TestHealthStateFile(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	state := db + ".cleanup-stale-health"
	args := []string{"--db", db, "--media-root", media, "--now", refNow}

	if r := runCLI(t, append(args, "--dry-run")...); r.code != 0 {
		t.Fatalf("dry run: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Lstat(state); !os.IsNotExist(err) {
		t.Fatalf("a dry run wrote the state file (%v)", err)
	}
	runCLI(t, "--db", db, "health", "--max-age", "1h").wantOneLineError(t, 1, "unhealthy: no run recorded yet", state)
	// Nor does a run that fails before any has succeeded: a refused run
	// leaves the install as it found it.
	if r := runCLI(t, "--db", db, "--media-root", filepath.Join(dir, "nope")); r.code != 2 {
		t.Fatalf("run without MEDIA_ROOT: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Lstat(state); !os.IsNotExist(err) {
		t.Fatalf("a failed first run wrote the state file (%v)", err)
	}

	before := time.Now()
	if r := runCLI(t, args...); r.code != 0 {
		t.Fatalf("real run: exit %d, %q", r.code, r.stderr)
	}
	s := readStateFile(t, state)
	if s.ExitStatus != 0 || s.Stale != 66 || s.Deleted != 66 || s.Failed != 0 || s.Error != "" ||
		s.Started.Before(before) || s.Finished.Before(s.Started) || !s.LastSuccess.Equal(s.Finished) || s.Every != 0 {
		t.Errorf("state after the run: %+v", s)
	}
	fi, err := os.Lstat(state)
	if err != nil || fi.Mode() != 0o600 {
		t.Errorf("state file mode %v (%v), want -rw-------", fi.Mode(), err)
	}
	// Nothing else was left in the database's directory: no temporary
	// file, no journal (nothing is pending); only what the walk of
	// MEDIA_ROOT found, kept for the next run.
	if got := dirNames(t, dir); !slices.Equal(got, []string{"db.sqlite3", "db.sqlite3.cleanup-stale-health", "db.sqlite3.cleanup-stale-tree", "media"}) {
		t.Errorf("the database's directory holds %v", got)
	}
	r := runCLI(t, "--db", db, "health", "--max-age", "1h")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "healthy: the last run finished ") ||
		!strings.Contains(r.stdout, "with exit 0: 66 stale, 66 deleted, 0 left behind") || r.stderr != "" {
		t.Errorf("health: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// MEDIA_ROOT gone (a volume not mounted): exit 2, recorded.
	if r := runCLI(t, "--db", db, "--media-root", filepath.Join(dir, "nope")); r.code != 2 {
		t.Fatalf("run without MEDIA_ROOT: exit %d, %q", r.code, r.stderr)
	}
	s2 := readStateFile(t, state)
	if s2.ExitStatus != 2 || !strings.Contains(s2.Error, "MEDIA_ROOT") || s2.Deleted != 0 ||
		!s2.LastSuccess.Equal(s.LastSuccess) || !s2.Finished.After(s.Finished) {
		t.Errorf("state after the failed run: %+v", s2)
	}
	runCLI(t, "--db", db, "health", "--max-age", "1h").wantOneLineError(t, 1, "unhealthy: the last run finished", "with exit 2: MEDIA_ROOT")
}

// TestHealthStateBesideJournal: with --state-dir the state file moves
// with the journal into the state directory, named after the database's
// path (a symlink's target), which health finds without opening it.
func TestHealthStateBesideJournal(t *testing.T) {
	dir := install(t)
	stateDir := t.TempDir()
	db := filepath.Join(dir, "db.sqlite3")
	if r := runCLI(t, "--db", db, "--media-root", filepath.Join(dir, "media"), "--now", refNow, "--state-dir", stateDir); r.code != 0 {
		t.Fatalf("exit %d, %q", r.code, r.stderr)
	}
	want := stateFileName(realPath(db), "sqlite:"+realPath(db))
	if got := withoutTree(dirNames(t, stateDir)); len(got) != 1 || got[0] != want || !strings.HasPrefix(want, "db.sqlite3-") {
		t.Errorf("state directory holds %v, want %s", got, want)
	}
	if _, err := os.Lstat(db + ".cleanup-stale-health"); !os.IsNotExist(err) {
		t.Errorf("a state file next to the database too (%v)", err)
	}
	if r := runCLI(t, "--db", db, "--state-dir", stateDir, "health", "--max-age", "1h"); r.code != 0 {
		t.Errorf("health: exit %d, %q", r.code, r.stderr)
	}
	alias := filepath.Join(t.TempDir(), "alias.sqlite3")
	if err := os.Symlink(db, alias); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "--db", alias, "--state-dir", stateDir, "health", "--max-age", "1h"); r.code != 0 {
		t.Errorf("health through a symlink to the database: exit %d, %q", r.code, r.stderr)
	}
}

// TestHealthStatePostgres: with PostgreSQL and no --state-dir, the state
// file goes with the journal into the user's state directory, which only
// a run that gets as far as its journal creates.
func TestHealthStatePostgres(t *testing.T) {
	pgURL, _ := dbtest.LoadPostgres(t, filepath.Join(repo, "testdata", "reference", "webapp.sqlite3"))
	dir := install(t)
	xdg := t.TempDir()
	t.Setenv("XDG_STATE_HOME", xdg)
	t.Setenv("STATE_DIRECTORY", "")
	if r := runCLI(t, "--db", pgURL, "--media-root", filepath.Join(dir, "nope"), "--now", refNow); r.code != 2 {
		t.Fatalf("without MEDIA_ROOT: exit %d, %q", r.code, r.stderr)
	}
	if got := dirNames(t, xdg); len(got) != 0 {
		t.Fatalf("a refused run created %v", got)
	}
	if r := runCLI(t, "--db", pgURL, "--media-root", filepath.Join(dir, "media"), "--now", refNow); r.code != 0 {
		t.Fatalf("exit %d, %q", r.code, r.stderr)
	}
	got := withoutTree(dirNames(t, filepath.Join(xdg, "cleanup-stale")))
	if len(got) != 1 || !strings.HasSuffix(got[0], ".cleanup-stale-health") {
		t.Fatalf("the state directory holds %v", got)
	}
	if s := readStateFile(t, filepath.Join(xdg, "cleanup-stale", got[0])); s.Deleted != 66 || s.ExitStatus != 0 {
		t.Errorf("state %+v", s)
	}
	if r := runCLI(t, "--db", pgURL, "health", "--max-age", "1h"); r.code != 0 || !strings.HasPrefix(r.stdout, "healthy: ") {
		t.Errorf("health: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
}

// TestHealthStateNotFollowed: a symlink where the state file goes is
// replaced, never written through; health refuses to read one.
func TestHealthStateNotFollowed(t *testing.T) {
	dir := install(t)
	db := filepath.Join(dir, "db.sqlite3")
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, db+".cleanup-stale-health"); err != nil {
		t.Fatal(err)
	}
	runCLI(t, "--db", db, "health", "--max-age", "1h").wantOneLineError(t, 1, "unhealthy", "not a regular file")
	if r := runCLI(t, "--db", db, "--media-root", filepath.Join(dir, "media"), "--now", refNow); r.code != 0 {
		t.Fatalf("exit %d, %q", r.code, r.stderr)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "precious\n" {
		t.Errorf("the symlink's target: %q, %v", b, err)
	}
	if fi, err := os.Lstat(db + ".cleanup-stale-health"); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v, %v", fi.Mode(), err)
	}
}

// TestHealthJudge: the verdicts, as of --now, on state files written as a
// run writes them.
func TestHealthJudge(t *testing.T) {
	dir := install(t)
	db := filepath.Join(dir, "db.sqlite3")
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	ok := runState{Version: stateVersion, Started: t0.Add(-time.Second), Finished: t0, LastSuccess: t0, Stale: 3, Deleted: 3}
	for _, c := range []struct {
		name  string
		state *runState // nil: no file
		now   string
		flags []string
		code  int
		says  string
	}{
		{"fresh success", &ok, at(9 * time.Minute), []string{"--max-age", "10m"}, 0, "healthy: the last run finished 9m0s ago with exit 0: 3 stale, 3 deleted"},
		{"success too long ago", &ok, at(11 * time.Minute), []string{"--max-age", "10m"}, 1, "unhealthy: no run within --max-age 10m0s: the last one finished 11m0s ago"},
		{"left something behind", withState(ok, func(s *runState) { s.ExitStatus, s.Failed, s.LastSuccess = 1, 4, t0.Add(-time.Hour) }),
			at(time.Minute), []string{"--max-age", "10m"}, 1, "unhealthy: the last run finished 1m0s ago with exit 1: 4 left behind"},
		{"in progress after a success", withState(ok, func(s *runState) { s.Started = t0.Add(5 * time.Minute) }),
			at(14 * time.Minute), []string{"--max-age", "10m"}, 0, "healthy: a run is in progress, started 9m0s ago; the last one finished 14m0s ago with exit 0"},
		{"in progress for too long", withState(ok, func(s *runState) { s.Started = t0.Add(5 * time.Minute) }),
			at(16 * time.Minute), []string{"--max-age", "10m"}, 1, "unhealthy: a run started 11m0s ago and has not finished (--max-age 10m0s)"},
		{"in progress after a failure", withState(ok, func(s *runState) {
			s.ExitStatus, s.Error, s.Started = 2, "database not found: x", t0.Add(5*time.Minute)
		}),
			at(6 * time.Minute), []string{"--max-age", "10m"}, 1, "with exit 2: database not found: x"},
		{"first run in progress", &runState{Version: stateVersion, Started: t0},
			at(time.Minute), []string{"--max-age", "10m"}, 0, "healthy: a run is in progress, started 1m0s ago; none has finished yet"},
		{"max-age from the loop", withState(ok, func(s *runState) { s.Every = duration(5 * time.Minute) }),
			at(9 * time.Minute), nil, 0, "healthy"},
		{"max-age from the loop, exceeded", withState(ok, func(s *runState) { s.Every = duration(5 * time.Minute) }),
			at(11 * time.Minute), nil, 1, "no run within --max-age 10m0s"},
		{"no loop, no max-age", &ok, at(time.Minute), nil, 2, "--max-age: needed"},
		{"negative max-age", &ok, at(time.Minute), []string{"--max-age", "-1m"}, 2, "--max-age -1m0s: must not be negative"},
		{"another format", withState(ok, func(s *runState) { s.Version = 7 }), at(time.Minute), []string{"--max-age", "10m"}, 1, "state version 7"},
		{"no state file", nil, at(time.Minute), []string{"--max-age", "10m"}, 1, "unhealthy: no run recorded yet"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := db + ".cleanup-stale-health"
			os.Remove(path)
			if c.state != nil {
				if err := writeState(path, c.state); err != nil {
					t.Fatal(err)
				}
			}
			r := runCLI(t, append([]string{"--db", db, "--now", c.now, "health"}, c.flags...)...)
			if c.code == 0 {
				if r.code != 0 || !strings.HasPrefix(r.stdout, c.says) || r.stderr != "" {
					t.Errorf("exit %d, stdout %q, stderr %q; want exit 0 and %q", r.code, r.stdout, r.stderr, c.says)
				}
				return
			}
			r.wantOneLineError(t, c.code, c.says)
		})
	}
	// Health opens no database: one that is not there has no state file
	// beside it, which is unhealthy.
	runCLI(t, "--db", filepath.Join(dir, "nope.sqlite3"), "health", "--max-age", "1m").
		wantOneLineError(t, 1, "unhealthy: no run recorded yet at "+filepath.Join(dir, "nope.sqlite3.cleanup-stale-health"))
}

// TestHealthJSON: --json prints the verdict and the state, healthy or
// not.
func TestHealthJSON(t *testing.T) {
	dir := install(t)
	db := filepath.Join(dir, "db.sqlite3")
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if err := writeState(db+".cleanup-stale-health", &runState{Version: stateVersion, Every: duration(time.Minute),
		Started: t0, Finished: t0.Add(time.Second), LastSuccess: t0.Add(time.Second), Deleted: 5, Stale: 5}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		now     string
		code    int
		healthy bool
	}{{"2026-11-25T12:01:00Z", 0, true}, {"2026-11-25T12:03:00Z", 1, false}} {
		r := runCLI(t, "--db", db, "--now", c.now, "health", "--json")
		var got struct {
			Healthy   bool
			Reason    string
			MaxAge    string `json:"max_age"`
			StateFile string `json:"state_file"`
			State     runState
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != c.code || got.Healthy != c.healthy ||
			got.MaxAge != "2m0s" || got.StateFile != db+".cleanup-stale-health" || got.State.Deleted != 5 || got.Reason == "" {
			t.Errorf("now %s: exit %d, %v, %q", c.now, r.code, err, r.stdout)
		}
	}
}

func withState(s runState, change func(*runState)) *runState {
	change(&s)
	return &s
}

func readStateFile(t *testing.T, path string) *runState {
	t.Helper()
	s, err := readState(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// withoutTree is names without the file that keeps the last walk of
// MEDIA_ROOT, which a run that removed files leaves on purpose.
func withoutTree(names []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return strings.HasSuffix(n, ".cleanup-stale-tree") })
}
