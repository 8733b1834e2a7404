package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// repo is the repository's root, where testdata/ and contrib/ are, seen
// from this package's directory, where go test runs the tests.
const repo = "../.."

// modulePath is the command's package, for go build.
const modulePath = "github.com/cleanup-stale/cleanup-stale"

// refNow is the instant the reference slugs were computed at.
const refNow = "2026-11-25T12:00:00Z"

// result is one run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line in-process, as main does.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), append([]string{"cleanup-stale"}, args...), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// install copies the web app's reference database and uploads into a
// temporary directory, as an install would have them, and returns the
// directory. Paths: db.sqlite3, media/.
func install(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	dbtest.CopyReference(t, filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media"))
	return dir
}

// fingerprint hashes every file under dir, names, modes and contents:
// equal fingerprints mean that not one byte changed and nothing was
// created or removed.
func fingerprint(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %s", p, fi.Mode())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x %s", sha256.Sum256(b), fi.ModTime())
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// wantOneLineError asserts exit status code and a single stderr line that
// mentions each of words, with nothing on stdout.
func (r result) wantOneLineError(t *testing.T, code int, words ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d (stderr %q)", r.code, code, r.stderr)
	}
	if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr has %d lines, want 1: %q", n, r.stderr)
	}
	for _, w := range words {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q does not mention %q", r.stderr, w)
		}
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary that the tests built, if any.
//
// The tests remove files right after their rows' commit, unless they say
// otherwise: a run's files wait a file grace by default, and only the
// tests of the grace are about that wait. A flag overrides this.
func TestMain(m *testing.M) {
	os.Setenv("CLEANUP_STALE_FILE_GRACE", "0")
	code := m.Run()
	if buildErr == nil && binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds the real cleanup-stale once per test run, for the tests
// that kill it or run two at once.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cleanup-stale-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "cleanup-stale")
		out, err := exec.Command("go", "build", "-o", binPath, modulePath).CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// generatedNow is the instant generated installs are stale at.
var generatedNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// generated makes an install on disk, in dir: db.sqlite3 with the web
// app's schema and spec's rows, and media/ with every upload.
func generated(t *testing.T, dir string, spec dbtest.Spec) (db, media string) {
	t.Helper()
	spec.Now = generatedNow
	db, media = filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(storetest.Schema()); err != nil {
		t.Fatal(err)
	}
	if err := dbtest.Generate(raw, spec); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(media, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := dbtest.WriteFiles(raw, media); err != nil {
		t.Fatal(err)
	}
	return db, media
}

// countStale counts the rows stale at generatedNow with a 24 h TTL. It
// opens the database read-write, as the next run would, so that a hot
// journal left by a kill is rolled back first.
func countStale(t *testing.T, db string) int64 {
	t.Helper()
	d, err := store.Open(context.Background(), db, store.Options{BusyTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n, err := d.CountStale(context.Background(), generatedNow.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// openSQL opens the database at path read-write, for the test's own SQL.
// Like the web app, it waits for a lock that the tool holds (a reader waits
// out a commit in rollback-journal mode).
func openSQL(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// rowsOf returns slug -> expr for the rows of the database at path (see
// dbtest.Rows).
func rowsOf(t *testing.T, path, expr string, where ...string) map[string]string {
	t.Helper()
	raw := openSQL(t, path)
	defer raw.Close()
	return dbtest.Rows(t, raw, expr, where...)
}

// holdWriteLock takes the write lock on the database at path, as a busy web
// app would, until the returned release is called (or the test ends).
// While it holds the lock, the test must not open the database file
// itself: closing any descriptor of the file drops this process's POSIX
// locks on it, and another process would no longer see the lock.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	raw := openSQL(t, path)
	conn, err := raw.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(context.Background(), "COMMIT"); err != nil {
				t.Error(err)
			}
			conn.Close()
			raw.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// slugStatuses returns slug -> status for every row of the database at
// path.
func slugStatuses(t *testing.T, path string) map[string]string {
	t.Helper()
	return rowsOf(t, path, "status")
}

// execSQL runs query on the database at path.
func execSQL(t *testing.T, path, query string) {
	t.Helper()
	db := openSQL(t, path)
	defer db.Close()
	if _, err := db.Exec(query); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer that a running loop writes to while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func countRows(t *testing.T, db string) int {
	t.Helper()
	return len(slugStatuses(t, db))
}

// waitFor polls cond until it holds: what a test waits for is observed,
// never slept for. The deadline only turns a hang into a failure; it is
// no pace, so it is generous: a loaded machine (the suite on one core
// beside CPU-bound loops) must not fail a test that is only slow.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hasOpen reports whether process pid has the file at path open.
func hasOpen(pid int, path string) bool {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && target == path {
			return true
		}
	}
	return false
}

// journaledFiles reads the pending-removal journal at path as a person
// would: the files of the batches that no "done" line closes.
func journaledFiles(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		batch, path string
	}
	var entries []entry
	done := map[string]bool{}
	doneFirst := map[string]int{} // "done 7 2": the first two files of batch 7
	index := map[string]int{}
	batch := ""
	for _, line := range strings.Split(string(b), "\n") {
		kind, arg, _ := strings.Cut(line, " ")
		switch kind {
		case "batch":
			batch, _, _ = strings.Cut(arg, " ")
		case "file":
			q, err := strconv.QuotedPrefix(arg)
			if err != nil {
				t.Fatalf("journal %s: %q: %v", path, line, err)
			}
			p, _ := strconv.Unquote(q)
			entries = append(entries, entry{batch, p})
		case "done":
			seq, n, partial := strings.Cut(arg, " ")
			if !partial {
				done[seq] = true
			} else if k, err := strconv.Atoi(n); err == nil {
				doneFirst[seq] = max(doneFirst[seq], k)
			}
		}
	}
	var out []string
	for _, e := range entries {
		i := index[e.batch]
		index[e.batch]++
		if !done[e.batch] && i >= doneFirst[e.batch] {
			out = append(out, e.path)
		}
	}
	return out
}
