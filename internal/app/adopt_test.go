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
		!strings.Contains(r.stdout, "the next real run takes its files") {
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

// TestRootDoesNotLockTheOwnerOut: a real run as root on a database that
// another user owns would leave a root-owned journal that locks that
// user's runs out (every later run, stats and dry run exit 2). It is
// refused, in one line that says whose the install is and how to run as
// them; nothing is created. Dry runs and stats, which write nothing, run.
func TestRootDoesNotLockTheOwnerOut(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	if err := os.Chown(db, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	before := fingerprint(t, dir)
	args := []string{"--db", db, "--media-root", media, "--now", refNow}
	runCLI(t, args...).wantOneLineError(t, 2, "running as root", "belongs to user 65534", "sudo -u")
	runCLI(t, append(args, "sweep")...).wantOneLineError(t, 2, "running as root", "belongs to user 65534")
	if fingerprint(t, dir) != before {
		t.Error("a refused run changed something")
	}
	for _, mode := range [][]string{{"--dry-run"}, {"stats"}} {
		if r := runCLI(t, append(args, mode...)...); r.code != 0 {
			t.Errorf("%v as root: exit %d, %q", mode, r.code, r.stderr)
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
