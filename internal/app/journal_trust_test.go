package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/cleanup-stale/cleanup-stale/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// The journal is trusted only as far as the database is (docs/guarantees.md,
// docs/journal.md): a regular file, never reached through a link, owned by the
// user who runs the tool, writable by no one else, with entries that are
// clean paths under MEDIA_ROOT. These tests plant what a hostile or a
// careless hand leaves at the journal's name, on a real disk, and check
// that real runs, dry runs and stats refuse it alike: exit 2, one line,
// nothing created, changed or deleted.

// writeJournal writes, at path, a journal of one batch written at batch
// (RFC 3339) and, unless gone is "", whose rows went at gone (on no boot
// clock: a run stamps it again, see cleanup's instant), listing files
// under media with their identities as they are now; mode 0600, owned by
// this user.
func writeJournal(t *testing.T, path, media, batch, gone string, files ...string) {
	t.Helper()
	text := journalHeader(t, media) + "batch 1 " + batch + "\n" + journalFiles(t, media, files...)
	if gone != "" {
		text += "gone 1 " + gone + "\n"
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// journalHeader is the first line of a journal of files under media.
func journalHeader(t *testing.T, media string) string {
	t.Helper()
	abs, err := filepath.Abs(media)
	if err != nil {
		t.Fatal(err)
	}
	root, err := fs.NewRootFs(media)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	id, err := fs.RootID(root)
	if err != nil {
		t.Fatal(err)
	}
	return "cleanup-stale pending removals v3 media-root=" + strconv.Quote(abs) + " media-id=" + strconv.Quote(id) + "\n"
}

// journalFiles are the file records of files under media, each with its
// identity as it is now: a file the run may remove. A path that is not
// clean gets the identity of a missing file.
func journalFiles(t *testing.T, media string, files ...string) string {
	t.Helper()
	root, err := fs.NewRootFs(media)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var text string
	for i, in := range fs.Inspect(context.Background(), root, files) {
		id := in.ID
		if id.IsZero() {
			id = fs.Missing
		}
		text += "file " + strconv.Quote(files[i]) + " " + id.String() + "\n"
	}
	return text
}

// writeFiles creates files under dir, old enough for any grace.
func writeFiles(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("solid\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-48 * time.Hour)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
}

// wantFiles asserts which of files exist under dir.
func wantFiles(t *testing.T, dir string, exist bool, files ...string) {
	t.Helper()
	for _, f := range files {
		_, err := os.Lstat(filepath.Join(dir, f))
		if exist && err != nil {
			t.Errorf("%s is gone: %v", f, err)
		}
		if !exist && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there: %v", f, err)
		}
	}
}

// everyMode is each way of reading the journal: a real run, a dry run,
// stats.
var everyMode = [][]string{nil, {"--dry-run"}, {"stats"}}

// TestJournalSymlinkRefused: a symlink planted at the journal's name
// (pointing out of the install, or dangling) makes real runs, dry runs
// and stats exit 2 with one line that says so. Its target is neither
// written nor created, and nothing is deleted. Next to the database and
// in a --state-dir alike.
func TestJournalSymlinkRefused(t *testing.T) {
	dir, outside := install(t), t.TempDir()
	db, media, state := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media"), filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	d, err := store.Open(context.Background(), db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	inState, err := cleanup.JournalPath(d, state, false)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"--db", db, "--media-root", media, "--now", refNow}
	for _, tc := range []struct {
		name, link, target string
		extra              []string
	}{
		{"next to the database", db + ".cleanup-stale-pending", victim, nil},
		{"dangling", db + ".cleanup-stale-pending", filepath.Join(outside, "missing"), nil},
		{"in the state directory", inState, victim, []string{"--state-dir", state}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel, err := filepath.Rel(filepath.Dir(tc.link), tc.target) // ../outside/victim, as an attacker writes it
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(rel, tc.link); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(tc.link)
			before, beforeOutside := fingerprint(t, dir), fingerprint(t, outside)
			for _, mode := range everyMode {
				runCLI(t, slices.Concat(base, tc.extra, mode)...).wantOneLineError(t, 2, tc.link, "symbolic link")
			}
			if fingerprint(t, dir) != before {
				t.Error("the install changed")
			}
			if fingerprint(t, outside) != beforeOutside {
				t.Error("the link's target changed or was created")
			}
		})
	}
	if n := countStale(t, db); n != 66 {
		t.Errorf("%d stale rows left, want all 66", n)
	}
}

// TestJournalNotTrusted: a journal owned by another user (nobody), or one
// that others may write, is refused by real runs, dry runs and stats:
// exit 2, one line with the reason, and neither the files that it lists
// (one outside the upload directory, one an orphan in it, in a batch
// dated 2099) nor anything else is touched.
func TestJournalNotTrusted(t *testing.T) {
	listed := []string{"other/keep.txt", "stl/orphan.stl"}
	for _, tc := range []struct {
		name  string
		owner int // -1: this user
		mode  os.FileMode
		words []string
	}{
		{"owned by nobody", 65534, 0o600, []string{"belongs to user 65534"}},
		{"mode 0666", -1, 0o666, []string{"writable by others", "0666"}},
		{"writable by its group", -1, 0o620, []string{"writable by others", "0620"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.owner >= 0 && os.Geteuid() != 0 {
				t.Skip("needs root, to give the journal to another user")
			}
			dir := install(t)
			db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
			journal := db + ".cleanup-stale-pending"
			writeFiles(t, media, listed...)
			writeJournal(t, journal, media, "2099-01-01T00:00:00Z", "", listed...)
			if err := os.Chmod(journal, tc.mode); err != nil {
				t.Fatal(err)
			}
			if tc.owner >= 0 {
				if err := os.Chown(journal, tc.owner, tc.owner); err != nil {
					t.Fatal(err)
				}
			}
			before := fingerprint(t, dir)
			for _, mode := range everyMode {
				args := append([]string{"--db", db, "--media-root", media, "--now", refNow, "--file-grace", "0"}, mode...)
				runCLI(t, args...).wantOneLineError(t, 2, append([]string{journal}, tc.words...)...)
			}
			if fingerprint(t, dir) != before {
				t.Error("the install or the journal changed")
			}
			wantFiles(t, media, true, listed...)
		})
	}
}

// runReport is what these tests read of a run's --json report.
type runReport struct {
	Deleted  int `json:"deleted"`
	Failed   int `json:"failed"`
	Pending  int `json:"pending"`
	Waiting  int `json:"waiting"`
	Failures []struct {
		Path  string `json:"path"`
		Error string `json:"error"`
	} `json:"failures"`
}

func parseReport(t *testing.T, r result) runReport {
	t.Helper()
	var rep runReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("exit %d, stdout %q, stderr %q: %v", r.code, r.stdout, r.stderr, err)
	}
	return rep
}

// statsReport is what these tests read of stats --json.
type statsReport struct {
	Pending int       `json:"pending"`
	Waiting int       `json:"waiting"`
	NextDue time.Time `json:"next_due"`
}

func (s statsReport) equal(o statsReport) bool {
	return s.Pending == o.Pending && s.Waiting == o.Waiting && s.NextDue.Equal(o.NextDue)
}

func parseStats(t *testing.T, r result) statsReport {
	t.Helper()
	var st statsReport
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 {
		t.Fatalf("stats: exit %d, stdout %q, stderr %q: %v", r.code, r.stdout, r.stderr, err)
	}
	return st
}

// TestJournalFutureBatch: a trusted journal whose batch is dated 2099 is
// not taken at its word: the batch counts as gone when a run first sees
// it, so its files wait a full --file-grace from then (reported as
// waiting), and later runs do not push that moment on. With --file-grace
// 0 they go.
func TestJournalFutureBatch(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	journal := db + ".cleanup-stale-pending"
	listed := []string{"stl/orphan-1.stl", "stl/orphan-2.stl"}
	writeFiles(t, media, listed...)
	writeJournal(t, journal, media, "2099-01-01T00:00:00Z", "", listed...)
	// Nothing is stale: the journal is the only work.
	args := []string{"--db", db, "--media-root", media, "--ttl-hours", "87600", "--json"}
	hour := []string{"--file-grace", "1h"}

	firstSight := time.Now()
	r := runCLI(t, slices.Concat(args, hour)...)
	seen := time.Now()
	if rep := parseReport(t, r); r.code != 0 || rep.Waiting != 2 || rep.Pending != 0 || rep.Failed != 0 {
		t.Errorf("first run: exit %d, %+v, stderr %q; want the 2 files waiting", r.code, rep, r.stderr)
	}
	if !strings.Contains(r.stderr, "waiting=2") {
		t.Errorf("first run's stderr %q does not say that 2 files wait", r.stderr)
	}
	wantFiles(t, media, true, listed...)
	st := parseStats(t, runCLI(t, slices.Concat(args, hour, []string{"stats"})...))
	if st.Waiting != 2 || st.Pending != 0 || st.NextDue.Before(firstSight.Add(time.Hour)) || st.NextDue.After(seen.Add(time.Hour)) {
		t.Errorf("stats: %+v; want 2 waiting, due an hour after the first run (%s to %s)", st, firstSight, seen)
	}

	// Runs inside the grace leave the files, and leave their due time
	// where the first sight put it.
	for run := 2; run <= 3; run++ {
		r := runCLI(t, slices.Concat(args, hour)...)
		if rep := parseReport(t, r); r.code != 0 || rep.Waiting != 2 {
			t.Errorf("run %d: exit %d, %+v", run, r.code, rep)
		}
		if again := parseStats(t, runCLI(t, slices.Concat(args, hour, []string{"stats"})...)); !again.equal(st) {
			t.Errorf("after run %d stats say %+v; want %+v: the first sight counts", run, again, st)
		}
	}
	wantFiles(t, media, true, listed...)

	r = runCLI(t, slices.Concat(args, []string{"--file-grace", "0"})...)
	if rep := parseReport(t, r); r.code != 0 || rep.Pending != 2 || rep.Waiting != 0 || r.stderr != "" {
		t.Errorf("with --file-grace 0: exit %d, %+v, stderr %q", r.code, rep, r.stderr)
	}
	wantFiles(t, media, false, listed...)
	if _, err := os.Lstat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the journal is still there: %v", err)
	}
	if n := countRows(t, db); n != 411 {
		t.Errorf("%d rows, want all 411", n)
	}
}

// TestJournalRefusedEntries: entries that are not clean paths under
// MEDIA_ROOT (climbing out with .., absolute, with a NUL byte) are
// reported once each, counted as failures (exit 1), and dropped: the next
// run exits 0 and the journal no longer lists them. The clean entry beside
// them is honoured, and nothing outside MEDIA_ROOT is touched.
func TestJournalRefusedEntries(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	journal := db + ".cleanup-stale-pending"
	outside := filepath.Join(dir, "outside.txt")
	if err := os.WriteFile(outside, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, media, "stl/orphan.stl")
	refused := []string{"../outside.txt", "stl/../../outside.txt", outside, "stl/a\x00b.stl"}
	old := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339Nano)
	writeJournal(t, journal, media, old, old, append(refused, "stl/orphan.stl")...)
	outsideBefore := fingerprint(t, outside)
	args := []string{"--db", db, "--media-root", media, "--ttl-hours", "87600", "--json", "--file-grace", "0"}

	r := runCLI(t, args...)
	rep := parseReport(t, r)
	if r.code != 1 || rep.Pending != 5 || rep.Failed != len(refused) || len(rep.Failures) != len(refused) {
		t.Errorf("first run: exit %d, %+v; want exit 1 and the %d refused entries as failures", r.code, rep, len(refused))
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != len(refused) {
		t.Errorf("stderr has %d lines, want one per refused entry:\n%s", len(lines), r.stderr)
	}
	for i, p := range refused {
		if i < len(lines) && !strings.Contains(lines[i], "journal entry refused") {
			t.Errorf("stderr line %d: %q", i, lines[i])
		}
		if i < len(rep.Failures) && rep.Failures[i].Path != p {
			t.Errorf("failure %d names %q, want %q", i, rep.Failures[i].Path, p)
		}
	}
	wantFiles(t, media, false, "stl/orphan.stl")
	if left := journaledFiles(t, journal); len(left) != 0 {
		t.Errorf("the journal still lists %q", left)
	}

	r = runCLI(t, args...)
	if rep := parseReport(t, r); r.code != 0 || r.stderr != "" || rep.Pending != 0 || rep.Failed != 0 {
		t.Errorf("second run: exit %d, %+v, stderr %q; want exit 0 with nothing left", r.code, rep, r.stderr)
	}
	if _, err := os.Lstat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the journal is still there: %v", err)
	}
	if fingerprint(t, outside) != outsideBefore {
		t.Error("a file outside MEDIA_ROOT changed")
	}
	if n := countRows(t, db); n != 411 {
		t.Errorf("%d rows, want all 411", n)
	}
}

// runBinary runs the real binary with args and returns what it did. A run
// still going after a generous deadline is killed, and the test fails:
// a hang must fail a test, not hang it.
func runBinary(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v: still running after a minute; killed", args)
	}
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errOut.String()}
}

// TestJournalLongPath: a stale row whose stl_file is 1.2 MB long (no such
// file exists) is journaled with --file-grace 1h; later runs read that
// journal back (exit 0), stats reads it, and with --file-grace 0 the entry
// is finished and the journal removed.
func TestJournalLongPath(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	journal := db + ".cleanup-stale-pending"
	long := "stl/" + strings.Repeat("deep/", 240_000) + "x.stl"
	execSQL(t, db, `INSERT INTO submissions_submission (slug, status, email, stl_file, created_at)
VALUES ('long-path', 'identifying', 'long@example.org', '`+long+`', '2026-11-01 00:00:00')`)
	args := []string{"--db", db, "--media-root", media, "--now", refNow, "--json"}
	hour := []string{"--file-grace", "1h"}
	before := filesIn(t, media)

	// The reference's 66 stale rows, 53 of them with a file, and the long
	// one: 54 files wait.
	r := runCLI(t, slices.Concat(args, hour)...)
	if rep := parseReport(t, r); r.code != 0 || rep.Deleted != 67 || rep.Waiting != 54 {
		t.Fatalf("first run: exit %d, %+v; want the 67 stale rows deleted and their files waiting", r.code, rep)
	}
	if !slices.Contains(journaledFiles(t, journal), long) {
		t.Fatal("the journal does not list the long path")
	}
	r = runCLI(t, slices.Concat(args, hour)...)
	if rep := parseReport(t, r); r.code != 0 || rep.Waiting != 54 {
		t.Errorf("second run: exit %d, %+v, stderr %.300q", r.code, rep, r.stderr)
	}
	if st := parseStats(t, runCLI(t, slices.Concat(args, hour, []string{"stats"})...)); st.Waiting != 54 {
		t.Errorf("stats: %+v, want 54 waiting", st)
	}
	if r := runCLI(t, slices.Concat(args, hour, []string{"--dry-run"})...); r.code != 0 {
		t.Errorf("dry run: exit %d, stderr %.300q", r.code, r.stderr)
	}

	r = runCLI(t, slices.Concat(args, []string{"--file-grace", "0"})...)
	if rep := parseReport(t, r); r.code != 0 || rep.Pending != 54 || rep.Waiting != 0 || rep.Failed != 0 {
		t.Errorf("with --file-grace 0: exit %d, %+v, stderr %.300q", r.code, rep, r.stderr)
	}
	if _, err := os.Lstat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the journal is still there: %v", err)
	}
	if n := countStale(t, db); n != 0 {
		t.Errorf("%d stale rows left", n)
	}
	if got, want := filesIn(t, media), survivors(before, filesOfRows(t, db)); !slices.Equal(got, want) {
		t.Errorf("%d files left, want exactly the %d files of the rows left", len(got), len(want))
	}
}

// survivors returns the files of before that rows still name.
func survivors(before, named []string) []string {
	var out []string
	for _, f := range before {
		if _, found := slices.BinarySearch(named, f); found {
			out = append(out, f)
		}
	}
	return out
}

// filesOfRows returns the files that the rows of the database at db name,
// sorted, each once.
func filesOfRows(t *testing.T, db string) []string {
	t.Helper()
	var out []string
	for _, f := range rowsOf(t, db, "stl_file", "stl_file != ''") {
		out = append(out, f)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestJournalUnderAnotherMediaRoot: a journal that lists files under
// another media root is refused by a dry run as by a real run: exit 2,
// one line that names both roots; nothing changes. stats, which may be run
// without --media-root, reports what the journal lists.
func TestJournalUnderAnotherMediaRoot(t *testing.T) {
	dir, elsewhere := install(t), t.TempDir()
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	journal := db + ".cleanup-stale-pending"
	writeFiles(t, elsewhere, "stl/2026/11/left.stl")
	writeJournal(t, journal, elsewhere, time.Now().UTC().Format(time.RFC3339Nano), "", "stl/2026/11/left.stl")
	before, beforeElsewhere := fingerprint(t, dir), fingerprint(t, elsewhere)
	for _, mode := range everyMode {
		args := append([]string{"--db", db, "--media-root", media, "--now", refNow}, mode...)
		if slices.Contains(mode, "stats") {
			if r := runCLI(t, args...); r.code != 0 || !strings.Contains(r.stdout, "due for removal by the next run: 1\n") {
				t.Errorf("stats: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			continue
		}
		runCLI(t, args...).wantOneLineError(t, 2, journal, "media root", elsewhere, media)
	}
	if fingerprint(t, dir) != before || fingerprint(t, elsewhere) != beforeElsewhere {
		t.Error("something changed")
	}
}
