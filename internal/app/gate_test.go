package app

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The removal gate on a real disk (docs/guarantees.md): a file goes only
// if it is still the file its row named, and nothing can want it back.
// Each test here reproduces, through the command line, a way the journal's
// name and wall-clock time alone were fooled.

// deletedWaiting runs the cleanup on the reference install with a grace of
// an hour: the stale rows go, their files wait in the journal. It returns
// the install's paths, the arguments of a run, and the files that wait.
func deletedWaiting(t *testing.T) (dir, db, media, journal string, args, waiting []string) {
	t.Helper()
	dir = install(t)
	db, media = filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	journal = db + ".cleanup-stale-pending"
	args = []string{"--db", db, "--media-root", media, "--now", refNow, "--json"}
	for _, f := range rowsOf(t, db, "stl_file", `stl_file <> '' AND `+
		`((status = 'identifying' AND created_at < '2026-11-24 12:00:00') OR (status = 'rejected' AND closed_at < '2026-11-24 12:00:00'))`) {
		if fileExists(filepath.Join(media, f)) {
			waiting = append(waiting, f)
		}
	}
	slices.Sort(waiting)
	if r := runCLI(t, append(args, "--file-grace", "1h")...); r.code != 0 || !strings.Contains(r.stdout, `"deleted":66,`) {
		t.Fatalf("the run that deletes: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	if len(waiting) < 10 || len(journaledFiles(t, journal)) == 0 {
		t.Fatalf("%d files wait, journal %q: the test proves nothing", len(waiting), journaledFiles(t, journal))
	}
	return dir, db, media, journal, args, waiting
}

// TestReusedNameKeepsTheNewUpload: a due phase's "done" records were lost
// (a kill, an OOM, a power cut right after the removals), so the next run
// takes the same files through the gate again. Meanwhile a guest uploaded
// model.stl under a name that a removal freed (Django reuses a free name),
// and its row has not committed yet. The new upload is not the file that
// was journaled: it stays, with a line on stderr, and the entry leaves
// the journal.
func TestReusedNameKeepsTheNewUpload(t *testing.T) {
	_, _, media, journal, args, waiting := deletedWaiting(t)
	before, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, append(args, "--file-grace", "0")...); r.code != 0 || fileExists(journal) {
		t.Fatalf("the run that removes: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	for _, f := range waiting {
		if fileExists(filepath.Join(media, f)) {
			t.Fatalf("%s was not removed once due", f)
		}
	}
	// The lost "done": the journal as it was before the removals.
	if err := os.WriteFile(journal, before, 0o600); err != nil {
		t.Fatal(err)
	}
	reused := filepath.Join(media, waiting[0])
	if err := os.WriteFile(reused, []byte("solid a new guest's model\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, append(args, "--file-grace", "0")...)
	if r.code != 0 || !strings.Contains(r.stderr, "not the file that was journaled") || !strings.Contains(r.stderr, waiting[0]) {
		t.Errorf("the run after the lost done: exit %d, stdout %s, stderr %q", r.code, r.stdout, r.stderr)
	}
	if b, err := os.ReadFile(reused); err != nil || string(b) != "solid a new guest's model\n" {
		t.Errorf("the new upload at a freed name: %q, %v; want it kept", b, err)
	}
	if fileExists(journal) {
		t.Errorf("the journal still lists %q", journaledFiles(t, journal))
	}
}

// TestSweepSparesJournaledFiles: files that wait out their grace in the
// journal are not orphans yet, however old: a slow view may still write
// their rows back. The sweep spares every one of them, and counts them.
func TestSweepSparesJournaledFiles(t *testing.T) {
	_, _, media, journal, args, waiting := deletedWaiting(t)
	listed := journaledFiles(t, journal)
	r := runCLI(t, append(args, "sweep", "--grace", "0")...)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf(`"listed":%d,`, len(waiting))) {
		t.Errorf("sweep: exit %d, stdout %s, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, f := range waiting {
		if !fileExists(filepath.Join(media, f)) {
			t.Errorf("the sweep removed %s, which the journal lists", f)
		}
	}
	if got := journaledFiles(t, journal); !slices.Equal(got, listed) {
		t.Errorf("the journal lists %d files after the sweep, want the same %d", len(got), len(listed))
	}
}

// TestSweepStepsAsideForARun: the sweep takes the journal's lock; while a
// cleanup run holds it, the sweep removes nothing and says why, exit 0.
func TestSweepStepsAsideForARun(t *testing.T) {
	dir, db, media, journal, args, _ := deletedWaiting(t)
	writeOrphans(t, media, "stl/2026/11/orphan.stl")
	release := holdJournalLock(t, journal)
	defer release()
	before := fingerprint(t, dir)
	r := runCLI(t, append(args, "sweep", "--grace", "0")...)
	if r.code != 0 || !strings.Contains(r.stderr, "a cleanup run is active on this database; sweep later") {
		t.Errorf("sweep beside a run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if fingerprint(t, dir) != before {
		t.Error("the sweep changed something while a run held the journal")
	}
	_ = db
}

// TestForwardClockStepKeepsTheGrace: a Raspberry Pi boots with
// fake-hwclock's old time, a run deletes rows, NTP steps the clock
// forward by days, and the timer fires at once. The wall clock says the
// grace is long past; the boot clock says it is not: the files wait.
func TestForwardClockStepKeepsTheGrace(t *testing.T) {
	if _, err := os.Stat("/proc/sys/kernel/random/boot_id"); err != nil {
		t.Skip("no boot id here: the grace is measured on the wall clock alone")
	}
	_, _, media, journal, args, waiting := deletedWaiting(t)
	// What the step looks like from the journal: the rows went three days
	// ago on the wall clock, moments ago on the boot clock.
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	gone := regexp.MustCompile(`(?m)^gone (\d+) (\S+)`)
	m := gone.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no gone record in %s", b)
	}
	at, err := time.Parse(time.RFC3339Nano, string(m[2]))
	if err != nil {
		t.Fatal(err)
	}
	stepped := gone.ReplaceAll(b, []byte("gone $1 "+at.Add(-72*time.Hour).Format(time.RFC3339Nano)))
	if err := os.WriteFile(journal, stepped, 0o600); err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, append(args, "--file-grace", "1m")...)
	if r.code != 0 || !strings.Contains(r.stdout, `"pending":0,`) || !strings.Contains(r.stdout, fmt.Sprintf(`"waiting":%d,`, len(journaledFiles(t, journal)))) {
		t.Errorf("the run after the step: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	for _, f := range waiting {
		if !fileExists(filepath.Join(media, f)) {
			t.Errorf("%s went after a forward step of the wall clock, before its grace on the boot clock", f)
		}
	}
	if r := runCLI(t, append(args, "--file-grace", "0")...); r.code != 0 || fileExists(journal) {
		t.Errorf("once due: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
}

// TestUnmountedMediaRootIsRefused: files wait in the journal; then
// MEDIA_ROOT is an empty directory, as an unmounted disk's mount point
// is, when they fall due. The run refuses (exit 2, one line that asks
// about the disk), changes nothing, keeps the journal; with the disk back
// the files go. The same directory through a symlink is the same media
// root.
func TestUnmountedMediaRootIsRefused(t *testing.T) {
	_, db, media, journal, args, waiting := deletedWaiting(t)
	listed := len(journaledFiles(t, journal))
	mounted := media + ".disk"
	if err := os.Rename(media, mounted); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(media, 0o755); err != nil {
		t.Fatal(err)
	}
	state := func() string {
		return fingerprint(t, mounted) + fingerprint(t, media) + fileText(t, journal) + fileText(t, db)
	}
	before := state()
	for _, mode := range [][]string{nil, {"--dry-run"}} {
		r := runCLI(t, slices.Concat(args, []string{"--file-grace", "0"}, mode)...)
		r.wantOneLineError(t, 2, "media root", "mounted")
	}
	if state() != before {
		t.Error("a refused run changed the media, the journal or the database")
	}

	if err := os.Remove(media); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(mounted), media); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "--db", db, "--media-root", media, "--now", refNow, "--json", "--file-grace", "0")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf(`"pending":%d,`, listed)) {
		t.Errorf("with the disk back, through a symlink: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	for _, f := range waiting {
		if fileExists(filepath.Join(mounted, f)) {
			t.Errorf("%s is still there", f)
		}
	}
	if fileExists(journal) {
		t.Error("the journal is still there")
	}
}

// fileText is the content of the file at path, for comparisons.
func fileText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
