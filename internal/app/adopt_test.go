package app

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// TestUpgradeFindsTheFormerJournal: the release before this one named a
// journal in a state directory by the database's spelling, in format v2.
// After the upgrade, stats lists it as the next run's to take, and the
// next run takes its files and finishes them (they were journaled before
// any identity: they go, since they are older than their batch), and
// removes it. It used to be abandoned: its files stayed for ever.
func TestUpgradeFindsTheFormerJournal(t *testing.T) {
	dir := install(t)
	db, media, state := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media"), filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	orphans := []string{"stl/2026/11/gone-1.stl", "stl/2026/11/gone-2.stl"}
	writeOrphans(t, media, orphans...)
	abs, _ := filepath.Abs(db)
	former := filepath.Join(state, formerName(abs))
	text := "cleanup-stale pending removals v2 media-root=" + quote(media) + "\nbatch 5 " + inAMinute() + "\n"
	for _, f := range orphans {
		text += "file " + quote(f) + "\n"
	}
	if err := os.WriteFile(former, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--db", db, "--media-root", media, "--now", refNow, "--state-dir", state, "--ttl-hours", "87600"}
	if r := runCLI(t, append(args, "stats")...); r.code != 0 || !strings.Contains(r.stdout, former+", 2 file(s)") ||
		!strings.Contains(r.stdout, "this database's; the next real run on that media root takes them") {
		t.Errorf("stats: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r := runCLI(t, append(args, "--json", "--file-grace", "0")...)
	if r.code != 0 || !strings.Contains(r.stdout, `"pending":2,`) || !strings.Contains(r.stderr, "took the files of a journal left under another name") {
		t.Errorf("the run: exit %d, stdout %s, stderr %q", r.code, r.stdout, r.stderr)
	}
	wantFiles(t, media, false, orphans...)
	if fileExists(former) {
		t.Error("the former journal is still there")
	}
}

// TestRestoredDatabaseFindsItsJournal: a database restored by copy (cp db
// x && mv x db) has a new inode, so its journal in a state directory a new
// name; the files that the old journal lists are found and finished.
func TestRestoredDatabaseFindsItsJournal(t *testing.T) {
	dir := install(t)
	db, media, state := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media"), filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"--db", db, "--media-root", media, "--now", refNow, "--state-dir", state, "--json"}
	if r := runCLI(t, append(args, "--file-grace", "1h")...); r.code != 0 || !strings.Contains(r.stdout, `"deleted":66,`) {
		t.Fatalf("the run that deletes: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	before := withoutTree(dirNames(t, state))
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db+".restored", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(db+".restored", db); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, append(args, "--file-grace", "0")...)
	if r.code != 0 || !strings.Contains(r.stdout, `"pending":53,`) {
		t.Errorf("the run after the restore: exit %d, stdout %s, stderr %q (state directory before: %v)", r.code, r.stdout, r.stderr, before)
	}
	for _, n := range withoutTree(dirNames(t, state)) {
		if strings.HasSuffix(n, ".cleanup-stale-pending") {
			t.Errorf("a journal is left: %s", n)
		}
	}
}

// TestNamesakeDatabasesKeepTheirJournals: two databases of one name
// (db.sqlite3 in two directories) that share a state directory and a
// media root never take each other's journal: the other database's row
// that still names a file is not this one's to see, so this one's gate
// would remove it. B deletes a stale row whose file its live row names
// too, and its journal lists the file; a run on A, with no grace, leaves
// the file and B's journal alone, and stats on A says that no run on A
// claims it.
func TestNamesakeDatabasesKeepTheirJournals(t *testing.T) {
	dir := install(t)
	a, media, state := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media"), filepath.Join(dir, "state")
	b := filepath.Join(dir, "b", "db.sqlite3")
	if err := os.MkdirAll(filepath.Dir(b), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	raw := openSQL(t, a)
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dbtest.Insert(t, raw, dbtest.Row{Slug: "b-stale", Status: "identifying", Created: old, File: "stl/shared.stl"},
		dbtest.Row{Slug: "b-live", Status: "pending", Created: old, File: "stl/shared.stl"})
	raw.Close()
	content, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, content, 0o644); err != nil {
		t.Fatal(err)
	}
	execSQL(t, a, "DELETE FROM "+store.Table+" WHERE slug LIKE 'b-%'")
	writeFiles(t, media, "stl/shared.stl")
	on := func(db string, extra ...string) result {
		return runCLI(t, append([]string{"--db", db, "--media-root", media, "--now", refNow, "--state-dir", state}, extra...)...)
	}
	if r := on(b, "--file-grace", "1h"); r.code != 0 {
		t.Fatalf("the run on B: exit %d, %s", r.code, r.stderr)
	}
	journals := withoutTree(dirNames(t, state))
	if r := on(a, "stats"); r.code != 0 || !strings.Contains(r.stdout, "file(s) under media root "+quote(media)+": no run on this database claims it") {
		t.Errorf("stats on A: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := on(a, "--file-grace", "0"); r.code != 0 || strings.Contains(r.stderr, "took the files") {
		t.Errorf("the run on A: exit %d, stderr %q", r.code, r.stderr)
	}
	wantFiles(t, media, true, "stl/shared.stl")
	for _, n := range journals {
		if strings.HasSuffix(n, ".cleanup-stale-pending") && !fileExists(filepath.Join(state, n)) {
			t.Errorf("B's journal %s is gone", n)
		}
	}
	// B's own run, once its files are due, keeps the file its live row names.
	if r := on(b, "--file-grace", "0"); r.code != 0 {
		t.Errorf("B's next run: exit %d, %s", r.code, r.stderr)
	}
	wantFiles(t, media, true, "stl/shared.stl")
}

// TestRootDoesNotLockTheOwnerOut: a real run as root on a database that
// another user owns would leave a root-owned journal and state file that
// lock that user's runs out (every later run, stats and dry run exit 2).
// It is refused, in one line that says whose the install is and how to
// run as them, before it opens anything: nothing is created or changed,
// the health state file included, whether --db is absolute or relative.
// Dry runs and stats, which write nothing, run.
func TestRootDoesNotLockTheOwnerOut(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	// A first run, as the install's user would, leaves a state file.
	if r := runCLI(t, "--db", db, "--media-root", media, "--now", refNow); r.code != 0 {
		t.Fatalf("the owner's run: exit %d, %s", r.code, r.stderr)
	}
	for _, p := range []string{db, db + ".cleanup-stale-health"} {
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	before := fingerprint(t, dir)
	t.Chdir(dir)
	for _, spelling := range []string{db, "db.sqlite3"} {
		args := []string{"--db", spelling, "--media-root", media, "--now", refNow}
		runCLI(t, args...).wantOneLineError(t, 2, "running as root", "belongs to user 65534", "sudo -u")
		runCLI(t, append(args, "sweep")...).wantOneLineError(t, 2, "running as root", "belongs to user 65534")
		if fingerprint(t, dir) != before {
			t.Errorf("--db %s: a refused run changed something", spelling)
		}
		for _, mode := range [][]string{{"--dry-run"}, {"stats"}} {
			if r := runCLI(t, append(args, mode...)...); r.code != 0 {
				t.Errorf("%v as root: exit %d, %q", mode, r.code, r.stderr)
			}
		}
	}
}

// formerName is the name the release before identities gave the journal
// of the database at abs in a state directory.
func formerName(abs string) string {
	return fmt.Sprintf("%s-%s.cleanup-stale-pending", filepath.Base(abs), sha8(abs))
}

func sha8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

func quote(s string) string { return strconv.Quote(s) }

// inAMinute is a batch time a minute ahead: the files of a journal
// without identities go only if they were born before their batch.
func inAMinute() string { return time.Now().Add(time.Minute).UTC().Format(time.RFC3339Nano) }
