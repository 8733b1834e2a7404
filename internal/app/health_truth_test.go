package app

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// The tests of this file hold health to docs/operating.md, Monitoring:
// every run that ends, however it ends, is what health reports next, and
// where a run cannot record its end, health is not healthy.

// healthSays runs health with args (after "health") and asserts its
// verdict: exit 0 and stdout beginning with "healthy: ", or exit 1 and
// one line on stderr; either way, saying each of words.
func healthSays(t *testing.T, r result, healthy bool, words ...string) {
	t.Helper()
	if healthy {
		if r.code != 0 || !strings.HasPrefix(r.stdout, "healthy: ") || r.stderr != "" {
			t.Errorf("health: exit %d, stdout %q, stderr %q; want healthy", r.code, r.stdout, r.stderr)
		}
		for _, w := range words {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("health %q does not say %q", r.stdout, w)
			}
		}
		return
	}
	r.wantOneLineError(t, 1, append([]string{"unhealthy: "}, words...)...)
}

// TestHealthAfterAFirstRunThatLeftSomething: a first run that deletes 65
// rows and keeps one (its file's path is unsafe) exits 1, and health says
// so; it used to say "no run recorded yet", as if nothing had run.
func TestHealthAfterAFirstRunThatLeftSomething(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	slug := readLines(t, filepath.Join(repo, "testdata", "reference", "expected-deleted-ttl24.txt"))[0] // stale at refNow
	execSQL(t, db, `UPDATE submissions_submission SET stl_file = '../outside.stl' WHERE slug = '`+slug+`'`)
	r := runCLI(t, "--db", db, "--media-root", media, "--now", refNow)
	if r.code != 1 || r.stdout != "Deleted 65 stale submission(s) older than 24 h.\n" {
		t.Fatalf("run: exit %d, %q, %q; want exit 1 with 65 deleted", r.code, r.stdout, r.stderr)
	}
	healthSays(t, runCLI(t, "--db", db, "health", "--max-age", "1h"), false, "the last run finished", "with exit 1: 1 left behind")
	s := readStateFile(t, db+".cleanup-stale-health")
	if s.ExitStatus != 1 || s.Deleted != 65 || s.Failed != 1 || !s.LastSuccess.IsZero() {
		t.Errorf("state %+v", s)
	}
}

// TestHealthAfterARunRefusedAtOpen: the reproduction. A run as the
// web app's user (nobody here) succeeds, and health says healthy; then
// the database is given to root, mode 0644. The user's next run is
// refused at open, exit 2, and health, run as that user, says so, and
// still says so after --max-age: the runs happen, they fail. It used to
// go on saying "healthy: the last run finished … with exit 0".
func TestHealthAfterARunRefusedAtOpen(t *testing.T) {
	dir, as := nobodyInstall(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	if r := as("--db", db, "--media-root", media, "--now", refNow); r.code != 0 {
		t.Fatalf("first run: exit %d, %q", r.code, r.stderr)
	}
	healthSays(t, as("--db", db, "health", "--max-age", "1h"), true, "with exit 0: 66 stale, 66 deleted")

	if err := os.Chown(db, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	as("--db", db, "--media-root", media).wantOneLineError(t, 2, "cannot write", db)
	healthSays(t, as("--db", db, "health", "--max-age", "1h"), false, "the last run finished", "with exit 2: ", "cannot write")
	later := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	healthSays(t, as("--db", db, "--now", later, "health", "--max-age", "1h"), false, "with exit 2: ", "cannot write", "no run since within --max-age 1h0m0s")
}

// TestHealthWhenTheStateCannotBeWritten: a run that cannot replace the
// state file (its directory has become read-only to the user) writes it
// in place, and health reports that run; one that cannot write it at all
// (the file is read-only too) leaves health unhealthy, saying why,
// instead of "healthy" on the strength of the run before.
func TestHealthWhenTheStateCannotBeWritten(t *testing.T) {
	dir, as := nobodyInstall(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	state := db + ".cleanup-stale-health"
	if r := as("--db", db, "--media-root", media, "--now", refNow); r.code != 0 {
		t.Fatalf("first run: exit %d, %q", r.code, r.stderr)
	}
	healthSays(t, as("--db", db, "health", "--max-age", "1h"), true)

	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	if r := as("--db", db, "--media-root", media); r.code != 2 {
		t.Fatalf("run in a read-only directory: exit %d, %q", r.code, r.stderr)
	}
	healthSays(t, as("--db", db, "health", "--max-age", "1h"), false, "with exit 2: ")
	if fi, err := os.Lstat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the state file: %v, %v", fi, err)
	}

	// Good again, then neither the directory nor the file may be written.
	os.Chmod(dir, 0o755)
	if r := as("--db", db, "--media-root", media); r.code != 0 {
		t.Fatalf("run: exit %d, %q", r.code, r.stderr)
	}
	healthSays(t, as("--db", db, "health", "--max-age", "1h"), true)
	if err := os.Chmod(state, 0o400); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o555)
	if r := as("--db", db, "--media-root", media); r.code != 2 || !strings.Contains(r.stderr, "health state file") {
		t.Errorf("run: exit %d, %q; want exit 2 and a warning about the state file", r.code, r.stderr)
	}
	healthSays(t, as("--db", db, "health", "--max-age", "1h"), false, state, "not writable by user 65534")
}

// TestHealthFollowsTheLoop: a loop whose database goes away (a volume
// unmounted) records each failed tick, and health says so; once the
// database is back, the next tick records its success.
func TestHealthFollowsTheLoop(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	state := db + ".cleanup-stale-health"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"cleanup-stale", "--db", db, "--media-root", media, "--now", refNow, "--every", "1s"}, &out, &errOut)
	}()
	finished := func(status int) func() bool {
		return func() bool {
			s, err := readState(state)
			return err == nil && !s.Finished.IsZero() && !s.running() && s.ExitStatus == status
		}
	}
	waitFor(t, "a tick to succeed", finished(0))
	healthSays(t, runCLI(t, "--db", db, "health"), true)
	if err := os.Rename(db, db+".away"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a tick to fail", finished(2))
	healthSays(t, runCLI(t, "--db", db, "health"), false, "with exit 2: database not found: "+db)
	if err := os.Rename(db+".away", db); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a tick to succeed again", finished(0))
	healthSays(t, runCLI(t, "--db", db, "health"), true)
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("loop: exit %d, %q", code, errOut.String())
	}
}

// TestHealthPostgresRefusedAtOpen: on PostgreSQL, a run refused at open
// (the role's DELETE revoked: exit 2; a statement_timeout that cancels the
// start check: exit 1) is what health reports next.
func TestHealthPostgresRefusedAtOpen(t *testing.T) {
	pgURL, raw := dbtest.LoadPostgres(t, filepath.Join(repo, "testdata", "reference", "webapp.sqlite3"))
	role := fmt.Sprintf("cleanup_stale_health_role_%d", time.Now().UnixNano()%1e9)
	for _, q := range []string{`CREATE ROLE ` + role + ` LOGIN`, `GRANT SELECT, UPDATE, DELETE ON ` + store.Table + ` TO ` + role} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		raw.Exec(`DROP OWNED BY ` + role)
		raw.Exec(`DROP ROLE ` + role)
	})
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	db := u.String()
	dir := install(t)
	state := t.TempDir()
	args := []string{"--db", db, "--media-root", filepath.Join(dir, "media"), "--state-dir", state, "--busy-timeout", "1h"}
	if r := runCLI(t, append(args, "--now", refNow)...); r.code != 0 {
		t.Fatalf("first run: exit %d, %q", r.code, r.stderr)
	}
	healthSays(t, runCLI(t, "--db", db, "--state-dir", state, "health", "--max-age", "1h"), true, "66 deleted")

	if _, err := raw.Exec(`REVOKE DELETE ON ` + store.Table + ` FROM ` + role); err != nil {
		t.Fatal(err)
	}
	runCLI(t, args...).wantOneLineError(t, 2, "may not delete")
	healthSays(t, runCLI(t, "--db", db, "--state-dir", state, "health", "--max-age", "1h"), false, "with exit 2: ", "may not delete")

	// The start check waits for a lock that another session holds, and
	// the role's statement_timeout cancels it long before the lock
	// timeout (--busy-timeout 1h).
	for _, q := range []string{`GRANT DELETE ON ` + store.Table + ` TO ` + role, `ALTER ROLE ` + role + ` SET statement_timeout = '100ms'`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	tx := lockTable(t, raw)
	r := runCLI(t, args...)
	tx.Rollback()
	if r.code == 0 || !strings.Contains(r.stderr, "statement timeout") {
		t.Fatalf("run under a statement_timeout: exit %d, %q", r.code, r.stderr)
	}
	healthSays(t, runCLI(t, "--db", db, "--state-dir", state, "health", "--max-age", "1h"), false,
		fmt.Sprintf("with exit %d: ", r.code), "statement timeout")
}

// lockTable takes an ACCESS EXCLUSIVE lock on the web app's table, as a
// migration would, until the returned transaction ends.
func lockTable(t *testing.T, raw *sql.DB) *sql.Tx {
	t.Helper()
	tx, err := raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	if _, err := tx.Exec(`LOCK TABLE ` + store.Table + ` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return tx
}

// nobodyInstall copies the reference install into a directory that
// belongs to nobody, as a web app's install belongs to its user, and
// returns it with a function that runs the real binary as nobody.
func nobodyInstall(t *testing.T) (string, func(args ...string) result) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run the binary as another user")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv is not installed")
	}
	bin := binary(t)
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	parent, err := os.MkdirTemp("", "cleanup-stale-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755)
	t.Cleanup(func() { os.RemoveAll(parent) })
	dir := filepath.Join(parent, "install")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dbtest.CopyReference(t, filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media"))
	if out, err := exec.Command("chown", "-R", "nobody:nogroup", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v: %s", err, out)
	}
	return dir, func(args ...string) result {
		t.Helper()
		cmd := exec.Command(setpriv, append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", bin}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+parent)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return result{code, out.String(), errOut.String()}
	}
}
