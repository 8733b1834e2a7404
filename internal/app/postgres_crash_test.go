package app

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// crashableServer is a PostgreSQL server of the test's own, started by
// .ci/pg (the script that .ci/run starts the suite's server with), which
// the test may crash.
type crashableServer struct {
	dir string
	url string // the admin URL; the port changes at each start
}

// startCrashable starts a throwaway server in a new directory, or skips the
// test where PostgreSQL's binaries are not installed (CI installs them).
func startCrashable(t *testing.T) *crashableServer {
	t.Helper()
	if _, err := os.Stat("/usr/lib/postgresql/15/bin/initdb"); err != nil && os.Getenv("PG_BIN") == "" {
		dbtest.Unavailable(t, "PostgreSQL 15 is not installed (apt-get install postgresql-15): the test crashes a server of its own")
	}
	// Under /tmp, reachable by the postgres user when the tests run as root.
	dir, err := os.MkdirTemp("/tmp", "cleanup-stale-crash-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &crashableServer{dir: dir}
	t.Cleanup(func() {
		exec.Command(filepath.Join(repo, ".ci", "pg"), "stop", dir).Run()
		os.RemoveAll(dir)
	})
	s.start(t)
	return s
}

var pgURLLine = regexp.MustCompile(`CLEANUP_STALE_TEST_PG='([^']+)'`)

func (s *crashableServer) start(t *testing.T) {
	t.Helper()
	out, err := exec.Command(filepath.Join(repo, ".ci", "pg"), "start", s.dir).Output()
	if err != nil {
		t.Fatalf(".ci/pg start: %v: %s", err, out)
	}
	m := pgURLLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf(".ci/pg start printed %q", out)
	}
	s.url = string(m[1])
}

// crash stops the server as a crash would (pg_ctl stop -m immediate: no
// checkpoint, and what is not yet in the WAL on disk is lost), then starts
// it again.
func (s *crashableServer) crash(t *testing.T) {
	t.Helper()
	pgctl := filepath.Join(os.Getenv("PG_BIN"), "pg_ctl")
	if os.Getenv("PG_BIN") == "" {
		pgctl = "/usr/lib/postgresql/15/bin/pg_ctl"
	}
	cmd := exec.Command(pgctl, "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--"}, cmd.Args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("crash: %v: %s", err, out)
	}
	s.start(t)
}

// database connects to database name on the server as it runs now.
func (s *crashableServer) database(t *testing.T, name string) (string, *sql.DB) {
	t.Helper()
	u := strings.Replace(s.url, "/postgres?", "/"+name+"?", 1)
	raw, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return u, raw
}

// TestServerCrashAfterCommit: the database is set to commit asynchronously
// (synchronous_commit = off, a documented speed setting), and the server
// crashes right after a run. Every row still in the database has its
// file: the tool's own sessions commit synchronously, so no deletion that
// it followed with file removals comes undone.
//
// The same deletion by a session that keeps the database's setting is
// lost in the same crash (its rows come back): that shows the crash here
// does undo what the setting leaves unflushed, so the test can fail. The
// server's WAL writer is slowed down (wal_writer_delay = 10s), so that
// nothing flushes an asynchronous commit before the crash by chance.
func TestServerCrashAfterCommit(t *testing.T) {
	srv := startCrashable(t)
	t.Setenv(dbtest.PostgresEnv, srv.url)
	u, raw := dbtest.NewPostgres(t)
	name := strings.TrimPrefix(u[strings.LastIndex(u, "/"):strings.Index(u, "?")], "/")
	if err := dbtest.GeneratePostgres(raw, dbtest.Spec{Rows: 2000, Stale: 1000, Files: true, Now: generatedNow}); err != nil {
		t.Fatal(err)
	}
	media := filepath.Join(t.TempDir(), "media")
	if err := dbtest.WriteFiles(raw, media); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`ALTER DATABASE ` + name + ` SET synchronous_commit = off`,
		`ALTER SYSTEM SET wal_writer_delay = '10s'`,
		`SELECT pg_reload_conf()`,
		`CHECKPOINT`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	// The control: a client that does not insist on durable commits.
	_, raw = srv.database(t, name)
	res, err := raw.Exec(`DELETE FROM submissions_submission WHERE status = 'done'`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatal("the control deleted nothing")
	}
	raw.Close()
	srv.crash(t)
	u, raw = srv.database(t, name)
	if n := countWhere(t, raw, `status = 'done'`); n == 0 {
		t.Fatal("the control's deletion survived the crash: the crash here cannot undo an asynchronous commit, and the test proves nothing")
	}

	// The tool's run, then the same crash at once.
	state := t.TempDir()
	out := runBounded(t, "--db", u, "--media-root", media, "--now", generatedNow.Format(time.RFC3339),
		"--state-dir", state, "--file-grace", "0", "--json")
	if !strings.Contains(out, `"deleted":1000,`) {
		t.Fatalf("the run: %s", out)
	}
	raw.Close()
	srv.crash(t)
	_, raw = srv.database(t, name)
	missing := 0
	for slug, f := range dbtest.Files(t, raw) {
		if _, err := os.Stat(filepath.Join(media, f)); err != nil {
			if missing++; missing == 1 {
				t.Errorf("row %s is in the database after the crash, and its file is gone: %v", slug, err)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d rows lost their files in the crash", missing)
	}
	if n := countWhere(t, raw, `true`); n != 1000 {
		t.Errorf("%d rows after the crash, want the 1000 live ones", n)
	}
}

// countWhere counts the rows of raw's table that match where.
func countWhere(t *testing.T, raw *sql.DB, where string) int {
	t.Helper()
	var n int
	if err := raw.QueryRowContext(context.Background(), `SELECT count(*) FROM submissions_submission WHERE `+where).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
