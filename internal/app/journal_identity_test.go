package app

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// The journal is named for the database's identity, not for the spelling
// that reached it (docs/guarantees.md): one SQLite file reached through a
// symlink and through its own name, or one PostgreSQL database reached by
// two URLs, has one journal and one lock. These tests leave files waiting
// in the journal through one spelling and finish them through another.

// killAfterProgress starts the real binary with args on the generated
// install at db, waits until its stale rows have dropped by at least
// drop (or until it exits), and kills it with SIGKILL. A run that deleted
// nothing fails the test: the kill would prove nothing.
func killAfterProgress(t *testing.T, db string, drop int64, args ...string) {
	t.Helper()
	before := countStale(t, db)
	cmd := exec.Command(binary(t), args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	waitForStale(t, db, before-drop, exited)
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	after := countStale(t, db)
	t.Logf("killed at %d stale rows left of %d", after, before)
	if after == before {
		t.Fatalf("the run deleted nothing before it ended (%v)", cmd.ProcessState)
	}
}

// slowRun makes a run take many short transactions with pauses, so that
// a kill after observed progress lands in its middle.
var slowRun = []string{"--batch-size", "50", "--tx-target", "1ms", "--pause", "20ms"}

// orphansNotListed returns the files under media whose rows are gone and
// that no journal in journals lists: files lost for good.
func orphansNotListed(t *testing.T, db, media string, journals ...string) []string {
	t.Helper()
	named := map[string]bool{}
	for _, f := range filesOfRows(t, db) {
		named[f] = true
	}
	for _, j := range journals {
		for _, f := range journaledFiles(t, j) {
			named[f] = true
		}
	}
	var lost []string
	for _, f := range filesIn(t, media) {
		if !named[f] {
			lost = append(lost, f)
		}
	}
	return lost
}

// journalsIn lists the journal files in dir.
func journalsIn(t *testing.T, dir string) []string {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(dir, "*.cleanup-stale-pending"))
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestJournalOfASymlinkedDatabase: a run through alias.sqlite3, a symlink
// to db.sqlite3, is killed with files waiting in the journal; the journal
// is db.sqlite3's (next to it, or in --state-dir under its identity), so
// a run through the real name finishes it: no file is left whose row is
// gone.
func TestJournalOfASymlinkedDatabase(t *testing.T) {
	t.Parallel() // a real binary at work: it waits on the disk, the others can run meanwhile
	for _, inState := range []bool{false, true} {
		t.Run(map[bool]string{false: "next to the database", true: "in a state directory"}[inState], func(t *testing.T) {
			dir := t.TempDir()
			db, media := generated(t, dir, dbtest.Spec{Rows: 3000, Stale: 2000, Recent: 100, Files: true})
			liveBefore := liveRows(t, db)
			alias := filepath.Join(dir, "alias.sqlite3")
			if err := os.Symlink("db.sqlite3", alias); err != nil {
				t.Fatal(err)
			}
			var extra []string
			journalDir := dir
			if inState {
				journalDir = filepath.Join(dir, "state")
				if err := os.Mkdir(journalDir, 0o700); err != nil {
					t.Fatal(err)
				}
				extra = []string{"--state-dir", journalDir}
			}
			args := func(name string, more ...string) []string {
				return slices.Concat([]string{"--db", name, "--media-root", media, "--now", generatedNow.Format(time.RFC3339)}, extra, more)
			}

			// Through the alias, with a grace: every deleted row's file
			// waits in the journal when the kill comes.
			killAfterProgress(t, db, 100, args(alias, slices.Concat(slowRun, []string{"--file-grace", "1h"})...)...)
			journals := journalsIn(t, journalDir)
			if len(journals) != 1 || inState == (journals[0] == db+".cleanup-stale-pending") {
				t.Fatalf("journals in %s: %q; want one, db.sqlite3's", journalDir, journals)
			}
			if len(journaledFiles(t, journals[0])) == 0 {
				t.Fatal("the killed run left nothing in the journal; the test proves nothing")
			}
			if lost := orphansNotListed(t, db, media, journals...); len(lost) > 0 {
				t.Fatalf("%d files lost their rows and are not in the journal, e.g. %s", len(lost), lost[0])
			}

			// Through the real name.
			if r := runCLI(t, args(db, "--file-grace", "0")...); r.code != 0 {
				t.Fatalf("run through the real name: exit %d, stderr %q", r.code, r.stderr)
			}
			if n := countStale(t, db); n != 0 {
				t.Errorf("%d stale rows left", n)
			}
			if got, want := filesIn(t, media), liveFiles(liveBefore); !slices.Equal(got, want) {
				t.Errorf("%d files left; want exactly the %d files of live rows", len(got), len(want))
			}
			if left := journalsIn(t, journalDir); len(left) != 0 {
				t.Errorf("journals left: %q", left)
			}
		})
	}
}

// TestTwoSpellingsDeferToEachOther: two runs at once, one through a
// symlink to the database and one through its real name, share one
// journal lock: while the first holds it (it waits for the web app's
// write lock), the second exits 0 at once, says that it leaves the work
// to the active run, and deletes nothing; the first then deletes every
// stale row. Next to the database and in a --state-dir alike.
func TestTwoSpellingsDeferToEachOther(t *testing.T) {
	for _, inState := range []bool{false, true} {
		t.Run(map[bool]string{false: "next to the database", true: "in a state directory"}[inState], func(t *testing.T) {
			dir := install(t)
			real, err := filepath.EvalSymlinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			db, media := filepath.Join(real, "db.sqlite3"), filepath.Join(real, "media")
			alias := filepath.Join(real, "alias.sqlite3")
			if err := os.Symlink("db.sqlite3", alias); err != nil {
				t.Fatal(err)
			}
			var extra []string
			journal := db + ".cleanup-stale-pending"
			if inState {
				state := filepath.Join(real, "state")
				if err := os.Mkdir(state, 0o700); err != nil {
					t.Fatal(err)
				}
				extra = []string{"--state-dir", state}
				// Found before the web app takes its lock: the test must not
				// open the database while it holds it (see holdWriteLock).
				d, err := store.Open(context.Background(), db, store.Options{ReadOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				journal, err = cleanup.JournalPath(d, state, false)
				d.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			args := func(name string, more ...string) []string {
				return slices.Concat([]string{"--db", name, "--media-root", media, "--now", refNow}, extra, more)
			}

			release := holdWriteLock(t, db)
			first := exec.Command(binary(t), args(alias, "--busy-timeout", "1m")...)
			var firstOut, firstErr syncBuffer
			first.Stdout, first.Stderr = &firstOut, &firstErr
			if err := first.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { first.Wait(); close(exited) }()
			defer func() { first.Process.Kill(); <-exited }()
			// The first run opens the journal, then locks it: only the lock
			// makes the second run defer, so wait for the lock itself.
			for !holdsFlock(t, first.Process.Pid, journal) {
				select {
				case <-exited:
					t.Fatalf("the first run ended before it locked the journal: %s", firstErr.String())
				case <-time.After(time.Millisecond):
				}
			}

			second := runBinary(t, args(db, "--busy-timeout", "100ms")...)
			if second.code != 0 || second.stdout != "" || strings.Count(second.stderr, "\n") != 1 ||
				!strings.Contains(second.stderr, "another cleanup-stale run is active") {
				t.Errorf("second run: exit %d, stdout %q, stderr %q; want exit 0 and one line leaving the work to the first", second.code, second.stdout, second.stderr)
			}

			release()
			<-exited
			if code := first.ProcessState.ExitCode(); code != 0 || !strings.HasPrefix(firstOut.String(), "Deleted 66 ") {
				t.Errorf("first run: exit %d, stdout %q, stderr %q", code, firstOut.String(), firstErr.String())
			}
			if n := countStale(t, db); n != 0 {
				t.Errorf("%d stale rows left", n)
			}
		})
	}
}

// postgresWithFiles makes an install on PostgreSQL: five stale rows, a
// sixth stale one ("locked"), a done one and a young one, each with its
// file in media; and an empty state directory.
func postgresWithFiles(t *testing.T) (pgURL string, raw *sql.DB, media, state string, files []string) {
	t.Helper()
	pgURL, raw = dbtest.NewPostgres(t)
	old := generatedNow.Add(-72 * time.Hour)
	var rows []dbtest.Row
	for i := 1; i <= 5; i++ {
		rows = append(rows, dbtest.Row{Slug: fmt.Sprintf("stale-%d", i), Status: "identifying", Created: old,
			File: fmt.Sprintf("stl/2026/11/stale-%d.stl", i)})
	}
	rows = append(rows,
		dbtest.Row{Slug: "locked", Status: "identifying", Created: old, File: "stl/2026/11/locked.stl"},
		dbtest.Row{Slug: "live", Status: "done", Created: old, Closed: generatedNow, File: "stl/2026/11/live.stl"},
		dbtest.Row{Slug: "young", Status: "identifying", Created: generatedNow, File: "stl/2026/11/young.stl"})
	dbtest.InsertPostgres(t, raw, rows...)
	media, state = t.TempDir(), t.TempDir()
	for _, r := range rows {
		files = append(files, r.File)
	}
	writeFiles(t, media, files...)
	return pgURL, raw, media, state, files
}

// lockRow begins a transaction that holds the lock of the row slug, as
// the web app does while it writes the row, until the test ends or the
// returned release is called.
func lockRow(t *testing.T, raw *sql.DB, slug string) (release func()) {
	t.Helper()
	webapp, err := raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { webapp.Rollback() })
	if _, err := webapp.Exec(`SELECT 1 FROM submissions_submission WHERE slug = $1 FOR UPDATE`, slug); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := webapp.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestJournalOfOnePostgresDatabase: on PostgreSQL, a run with --file-grace
// 1h leaves the deleted rows' files waiting in the journal, and skips a
// stale row whose lock the web app holds (SELECT ... FOR UPDATE). Then
// stats and dry runs through other URLs of the same database
// (postgresql://, localhost for 127.0.0.1, no sslmode) see the same
// journal, and a run through one of them with --file-grace 0 removes the
// files: one database, one journal, whatever its URL.
func TestJournalOfOnePostgresDatabase(t *testing.T) {
	pgURL, raw, media, state, all := postgresWithFiles(t)
	args := func(u string, more ...string) []string {
		return slices.Concat([]string{"--db", u, "--media-root", media, "--state-dir", state,
			"--now", generatedNow.Format(time.RFC3339), "--json"}, more)
	}
	hour := []string{"--file-grace", "1h"}

	// The web app holds the lock of one stale row.
	release := lockRow(t, raw, "locked")
	r := runCLI(t, args(pgURL, hour...)...)
	first := parseReport(t, r)
	if r.code != 0 || first.Deleted != 5 || first.Waiting != 5 {
		t.Fatalf("first run: exit %d, %+v, stderr %q; want the 5 unlocked stale rows deleted and their files waiting", r.code, first, r.stderr)
	}
	release()
	if got := dbtest.Slugs(t, raw); !slices.Equal(got, []string{"locked", "live", "young"}) {
		t.Errorf("rows left: %q", got)
	}
	wantFiles(t, media, true, all...)
	want := parseStats(t, runCLI(t, args(pgURL, append(hour, "stats")...)...))
	if want.Waiting != first.Waiting || want.Pending != 0 {
		t.Fatalf("stats through %s: %+v", store.DisplayName(pgURL), want)
	}

	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	spell := func(change func(u *url.URL)) string {
		v := *u
		change(&v)
		return v.String()
	}
	spellings := []string{
		spell(func(u *url.URL) { u.Scheme = "postgresql" }),
		spell(func(u *url.URL) { u.Host = "localhost:" + u.Port() }),
		spell(func(u *url.URL) { u.RawQuery = "" }),
		spell(func(u *url.URL) { u.Scheme, u.Host, u.RawQuery = "postgresql", "localhost:"+u.Port(), "" }),
	}
	for _, s := range spellings {
		if s == pgURL {
			t.Fatalf("%s is not another spelling", s)
		}
		if got := parseStats(t, runCLI(t, args(s, append(hour, "stats")...)...)); !got.equal(want) {
			t.Errorf("stats through %s: %+v; want %+v", store.DisplayName(s), got, want)
		}
		r := runCLI(t, args(s, append(hour, "--dry-run")...)...)
		if rep := parseReport(t, r); r.code != 0 || rep.Waiting != want.Waiting {
			t.Errorf("dry run through %s: exit %d, %+v", store.DisplayName(s), r.code, rep)
		}
	}
	wantFiles(t, media, true, all...)
	if journals := journalsIn(t, state); len(journals) != 1 {
		t.Errorf("journals in the state directory: %q; want one", journals)
	}

	last := spellings[len(spellings)-1]
	r = runCLI(t, args(last, "--file-grace", "0")...)
	if rep := parseReport(t, r); r.code != 0 || rep.Pending != want.Waiting || rep.Deleted != 1 || rep.Waiting != 0 {
		t.Errorf("run through %s with --file-grace 0: exit %d, %+v, stderr %q", store.DisplayName(last), r.code, rep, r.stderr)
	}
	if got := dbtest.Slugs(t, raw); !slices.Equal(got, []string{"live", "young"}) {
		t.Errorf("rows left: %q", got)
	}
	if got := filesIn(t, media); !slices.Equal(got, []string{"stl/2026/11/live.stl", "stl/2026/11/young.stl"}) {
		t.Errorf("files left: %q", got)
	}
	if journals := journalsIn(t, state); len(journals) != 0 {
		t.Errorf("journals left: %q", journals)
	}
}

// TestWaitingCountsOnlyFilesWhoseRowsWent: a stale row that the web app
// holds locked is skipped, and keeps its row; a run with a file grace
// then reports as waiting only the files of the rows it deleted, in its
// JSON, on stderr and in stats.
func TestWaitingCountsOnlyFilesWhoseRowsWent(t *testing.T) {
	pgURL, raw, media, state, all := postgresWithFiles(t)
	args := []string{"--db", pgURL, "--media-root", media, "--state-dir", state,
		"--now", generatedNow.Format(time.RFC3339), "--json", "--file-grace", "1h"}
	lockRow(t, raw, "locked")
	r := runCLI(t, args...)
	if rep := parseReport(t, r); r.code != 0 || rep.Deleted != 5 || rep.Waiting != 5 || !strings.Contains(r.stderr, "waiting=5 ") {
		t.Errorf("exit %d, %+v, stderr %q; want the 5 deleted rows' files waiting, not the locked row's", r.code, rep, r.stderr)
	}
	if st := parseStats(t, runCLI(t, append(args, "stats")...)); st.Waiting != 5 {
		t.Errorf("stats: %+v; want 5 waiting", st)
	}
	wantFiles(t, media, true, all...)
}
