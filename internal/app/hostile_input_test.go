package app

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestDatabaseThatIsNotAFile: a FIFO (or any file that is not a regular
// file) as --db is exit 2 at once: SQLite would block on it forever.
func TestDatabaseThatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "db.sqlite3")
	mkfifo(t, fifo)
	media := filepath.Join(dir, "media")
	if err := os.Mkdir(media, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{nil, {"--dry-run"}, {"stats"}} {
		args := append([]string{"--db", fifo, "--media-root", media}, extra...)
		runCLI(t, args...).wantOneLineError(t, 2, "not a regular file", fifo)
	}
}

// TestDatabasePathIsNotAURI: a path that begins with "//" is a path, not a
// SQLite URI authority: "//" + an absolute path is that file, and
// "//localhost/x" is /localhost/x, checked and opened alike.
func TestDatabasePathIsNotAURI(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	want := runCLI(t, "--db", db, "--media-root", media, "--now", refNow, "--dry-run")
	got := runCLI(t, "--db", "/"+db, "--media-root", media, "--now", refNow, "--dry-run")
	if got != want || want.code != 0 {
		t.Errorf("--db //%s: %+v\nwant %+v", db, got, want)
	}
	before := fingerprint(t, dir)
	runCLI(t, "--db", "//localhost"+db, "--media-root", media).wantOneLineError(t, 2, "database not found", "/localhost"+db)
	if fingerprint(t, dir) != before {
		t.Error("the install changed")
	}
}

// TestNowIsHonoured: a given --now is used, even the zero time, or refused
// when the cutoff it makes is out of the web app's range; never replaced by
// the clock.
func TestNowIsHonoured(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	r := runCLI(t, "--db", db, "--media-root", media, "--now", "0001-01-01T00:00:00Z", "--ttl-hours", "0", "--dry-run")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "DRY RUN: would delete 0 ") {
		t.Errorf("--now 0001-01-01T00:00:00Z --ttl-hours 0: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	before := fingerprint(t, dir)
	for _, now := range []string{"0001-01-01T00:00:00Z", "0001-01-01T23:59:59Z", "10000-01-01T00:00:00Z"} {
		runCLI(t, "--db", db, "--media-root", media, "--now", now).wantOneLineError(t, 2, "--now")
	}
	runCLI(t, "--db", db, "--media-root", media, "--every", "1ns").wantOneLineError(t, 2, "--every 1ns", "at least 1s")
	if fingerprint(t, dir) != before {
		t.Error("the install changed")
	}
}

// TestBrokenStderr: with stderr on a pipe that nobody reads, a run that
// logs failures is not killed by SIGPIPE: it finishes, exit 1, every other
// stale row gone and the unsafe one kept.
func TestBrokenStderr(t *testing.T) {
	bin := binary(t)
	dir := install(t)
	db := filepath.Join(dir, "db.sqlite3")
	raw := openSQL(t, db)
	dbtest.Insert(t, raw, dbtest.Row{Slug: "unsafe", Status: "identifying",
		Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), File: "../outside.stl"})
	raw.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	cmd := exec.CommandContext(context.Background(), bin, "--db", db, "--media-root", filepath.Join(dir, "media"), "--now", refNow)
	cmd.Stderr = w
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("with a broken stderr: %v, want exit 1", err)
	}
	if n := countStale(t, db); n != 1 {
		t.Errorf("%d stale rows left, want the unsafe one", n)
	}
	if got := rowsOf(t, db, "stl_file", "slug = 'unsafe'"); len(got) != 1 {
		t.Errorf("the unsafe row: %v", got)
	}
}

// TestClosedStdout: a dry run whose reader has gone (`| head`) stops
// quietly with exit 0; a real run still does its work, and its exit status
// still tells that it left a row behind.
func TestClosedStdout(t *testing.T) {
	bin := binary(t)
	dir := install(t)
	db := filepath.Join(dir, "db.sqlite3")
	raw := openSQL(t, db)
	dbtest.Insert(t, raw, dbtest.Row{Slug: "unsafe", Status: "identifying",
		Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), File: "../outside.stl"})
	raw.Close()
	run := func(extra ...string) (int, string) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		defer w.Close()
		var errOut strings.Builder
		cmd := exec.Command(bin, append([]string{"--db", db, "--media-root", filepath.Join(dir, "media"), "--now", refNow}, extra...)...)
		cmd.Stdout, cmd.Stderr = w, &errOut
		err = cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), errOut.String()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, errOut.String()
	}
	if code, stderr := run("--dry-run"); code != 0 || stderr != "" {
		t.Errorf("dry run with stdout closed: exit %d, stderr %q; want 0 and nothing", code, stderr)
	}
	if code, stderr := run(); code != 1 || !strings.Contains(stderr, "slug=unsafe") || strings.Contains(stderr, "stdout") {
		t.Errorf("real run with stdout closed: exit %d, stderr %q; want 1 for the unsafe row", code, stderr)
	}
	if n := countStale(t, db); n != 1 {
		t.Errorf("%d stale rows left after the real run, want the unsafe one", n)
	}
}

// TestOddNamesAreQuoted: a dry run's listing shows a file name with a
// newline or an escape sequence quoted, so that it can neither forge a
// line nor drive the terminal; a plain name, umlauts included, is shown as
// it is.
func TestOddNamesAreQuoted(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	old := time.Now().Add(-72 * time.Hour)
	for _, name := range []string{"evil\nDRY RUN: would remove 0 orphan file(s).stl", "\x1b[31mred.stl", "plain-ü.stl"} {
		p := filepath.Join(media, "stl", name)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	r := runCLI(t, "--db", db, "--media-root", media, "sweep", "--dry-run", "--grace", "48h")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	for _, want := range []string{` - "stl/evil\nDRY RUN: would remove 0 orphan file(s).stl"`, ` - "stl/\x1b[31mred.stl"`, " - stl/plain-ü.stl"} {
		if !slices.Contains(lines, want) {
			t.Errorf("no line %q in:\n%s", want, r.stdout)
		}
	}
	if strings.ContainsRune(r.stdout, '\x1b') {
		t.Error("an escape character reached the output")
	}
}

// TestOverlongNamesGo: a stale row whose file name no file system holds (an
// element of 5000 bytes, or a path of 5000 bytes past PATH_MAX) goes as a
// row whose file is missing does: exit 0, its row deleted, and every other
// row and file exactly as the same run leaves an install without it.
func TestOverlongNamesGo(t *testing.T) {
	plain, odd := install(t), install(t)
	overlong := map[string]string{
		"overlong-element": "stl/" + strings.Repeat("a", 5000) + ".stl",
		"overlong-path":    "stl/" + strings.Repeat(strings.Repeat("b", 200)+"/", 25) + "x.stl",
	}
	raw := openSQL(t, filepath.Join(odd, "db.sqlite3"))
	for slug, name := range overlong {
		old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		dbtest.Insert(t, raw, dbtest.Row{Slug: slug, Status: "rejected", Created: old, Closed: old, File: name})
	}
	raw.Close()
	run := func(dir string) result {
		return runCLI(t, "--db", filepath.Join(dir, "db.sqlite3"), "--media-root", filepath.Join(dir, "media"), "--now", refNow)
	}
	want, got := run(plain), run(odd)
	if want.code != 0 || got.code != 0 {
		t.Fatalf("exit %d without the overlong rows, %d with them: %s", want.code, got.code, got.stderr)
	}
	if got, want := slugStatuses(t, filepath.Join(odd, "db.sqlite3")), slugStatuses(t, filepath.Join(plain, "db.sqlite3")); !maps.Equal(got, want) {
		t.Errorf("rows left: %d, want %d (the overlong ones: %q, %q)", len(got), len(want), got["overlong-element"], got["overlong-path"])
	}
	if got, want := filesIn(t, filepath.Join(odd, "media")), filesIn(t, filepath.Join(plain, "media")); !slices.Equal(got, want) {
		t.Errorf("files left:\n%v\nwant\n%v", got, want)
	}
	if journal := filepath.Join(odd, "db.sqlite3"+".cleanup-stale-pending"); fileExists(journal) {
		t.Errorf("a journal is left: %v", journaledFiles(t, journal))
	}
}
