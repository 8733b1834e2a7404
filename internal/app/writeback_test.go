package app

import (
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
)

// The web app writes a deleted row back: a view that read a stale row
// before the cleanup's commit (a guest confirming) saves it after, and
// Django's save() then INSERTs the whole row, file name included. These
// tests play that race with the web app's own ORM (testdata/writeback.py)
// against the real binary, and hold the tool to the guarantee of docs/guarantees.md: a
// row that is in the database has its file, so the file of a row written
// back stays, through the run that deleted the row and the next one.

// writeBackInstall is an install whose first stale guest a view is about
// to confirm: the database (a path or a URL), its raw connection, the
// media directory, the guest's slug and file, and the environment that
// points the web app at it.
type writeBackInstall struct {
	db, media, slug, file, state string
	raw                          *sql.DB
	env                          []string
}

// writeBackSpec is the install. The runs start with batches of 50 rows
// of each status (--batch-size), so that the run goes on after the batch
// that deletes the guest.
var writeBackSpec = dbtest.Spec{Rows: 1200, Stale: 600, Files: true, Now: generatedNow}

func sqliteWriteBackInstall(t *testing.T) writeBackInstall {
	t.Helper()
	db, media := generated(t, t.TempDir(), writeBackSpec)
	w := writeBackInstall{db: db, media: media, raw: openSQL(t, db),
		env: []string{"WEBAPP_DB=" + db, "WEBAPP_MEDIA=" + media}}
	t.Cleanup(func() { w.raw.Close() })
	w.pickGuest(t, "?")
	return w
}

func postgresWriteBackInstall(t *testing.T) writeBackInstall {
	t.Helper()
	u, raw := dbtest.NewPostgres(t)
	if err := dbtest.GeneratePostgres(raw, writeBackSpec); err != nil {
		t.Fatal(err)
	}
	media := filepath.Join(t.TempDir(), "media")
	if err := dbtest.WriteFiles(raw, media); err != nil {
		t.Fatal(err)
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	w := writeBackInstall{db: u, media: media, raw: raw, state: t.TempDir(), env: []string{
		"WEBAPP_PG=" + strings.TrimPrefix(parsed.Path, "/"), "WEBAPP_MEDIA=" + media,
		"PGHOST=" + parsed.Hostname(), "PGPORT=" + parsed.Port(), "PGUSER=" + parsed.User.Username(),
	}}
	w.pickGuest(t, "$")
	return w
}

// pickGuest picks the stale guest with a file that the first batch
// deletes: the lowest id.
func (w *writeBackInstall) pickGuest(t *testing.T, param string) {
	t.Helper()
	err := w.raw.QueryRow(`SELECT slug, stl_file FROM submissions_submission
WHERE status = 'identifying' AND created_at < `+param+`1 AND stl_file <> '' ORDER BY id LIMIT 1`,
		cutoffArg(param)).Scan(&w.slug, &w.file)
	if err != nil {
		t.Fatal(err)
	}
}

// cutoffArg is the 24 h cutoff of generated installs, as each database
// takes it.
func cutoffArg(param string) any {
	cutoff := generatedNow.Add(-24 * time.Hour)
	if param == "?" {
		return cutoff.Format("2006-01-02 15:04:05")
	}
	return cutoff
}

// run runs the real binary on the install, with args.
func (w writeBackInstall) run(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	args = append([]string{"--db", w.db, "--media-root", w.media, "--now", generatedNow.Format(time.RFC3339),
		"--json", "--batch-size", "50"}, args...)
	if w.state != "" {
		args = append(args, "--state-dir", w.state)
	}
	return exec.Command(binary(t), args...)
}

// guestStatus returns the guest's status, or "" when its row is gone.
func (w writeBackInstall) guestStatus(t *testing.T) string {
	t.Helper()
	q := `SELECT status FROM submissions_submission WHERE slug = ?`
	if strings.HasPrefix(w.db, "postgres") {
		q = strings.Replace(q, "?", "$1", 1)
	}
	var status string
	if err := w.raw.QueryRow(q, w.slug).Scan(&status); err == sql.ErrNoRows {
		return ""
	} else if err != nil {
		t.Fatal(err)
	}
	return status
}

// race plays the race: the view reads the guest, the cleanup starts and
// deletes it, the view saves it back while the run goes on. It returns
// the run's output and what the view printed.
func (w writeBackInstall) race(t *testing.T, atomic bool, args ...string) (run, view string) {
	t.Helper()
	python, app := webApp(t)
	dir := t.TempDir()
	ready, goFile := filepath.Join(dir, "ready"), filepath.Join(dir, "go")
	viewArgs := []string{filepath.Join(app, "..", "writeback.py"), w.slug, ready, goFile}
	if atomic {
		viewArgs = append(viewArgs, "--atomic")
	}
	v := exec.Command(python, viewArgs...)
	v.Env = append(append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1"), w.env...)
	var viewOut strings.Builder
	v.Stdout, v.Stderr = &viewOut, &viewOut
	if err := v.Start(); err != nil {
		t.Fatal(err)
	}
	defer v.Process.Kill()
	waitFor(t, "the view to read the guest", func() bool { _, err := os.Stat(ready); return err == nil })

	cmd := w.run(t, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cleanup to delete the guest", func() bool { return w.guestStatus(t) == "" && w.fileGone(t, graceless(args)) })
	if err := os.WriteFile(goFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := v.Wait(); err != nil {
		t.Fatalf("the view: %v: %s", err, viewOut.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cleanup-stale: %v: %s", err, out.String())
	}
	return out.String(), viewOut.String()
}

// graceless reports whether args run without a file grace: the run removes
// the file before the view writes its row back.
func graceless(args []string) bool {
	for i, a := range args {
		if a == "--file-grace" && i+1 < len(args) && args[i+1] == "0" {
			return true
		}
	}
	return false
}

// fileGone reports whether the guest's file is gone, when that is what the
// race waits for (wait): then the view writes its row back only once the
// run has removed the file, as a slow view does.
func (w writeBackInstall) fileGone(t *testing.T, wait bool) bool {
	if !wait {
		return true
	}
	_, err := os.Stat(filepath.Join(w.media, w.file))
	return os.IsNotExist(err)
}

// checkWriteBack runs the race, then a run with --file-grace 0, and
// checks that the guest's row is back, pending, with its file, after
// each.
func checkWriteBack(t *testing.T, w writeBackInstall, atomic bool) {
	run, view := w.race(t, atomic, "--file-grace", "1m")
	if !strings.Contains(view, "exists-again=True") || w.guestStatus(t) != "pending" {
		t.Fatalf("the view did not write the row back (status %q): %s", w.guestStatus(t), view)
	}
	if !strings.Contains(run, `"deleted":600`) || !strings.Contains(run, `"waiting":`) {
		t.Errorf("the run: %s", run)
	}
	wantFile(t, w.media, w.file, true, "after the run that deleted the row")
	out, err := w.run(t, "--file-grace", "0").CombinedOutput()
	if err != nil {
		t.Fatalf("the next run: %v: %s", err, out)
	}
	wantFile(t, w.media, w.file, true, "after the next run, with --file-grace 0")
	if w.guestStatus(t) != "pending" {
		t.Errorf("the guest's row is %q after the next run", w.guestStatus(t))
	}
	if !strings.Contains(string(out), `"pending":600,`) || !strings.Contains(string(out), `"waiting":0`) {
		t.Errorf("the next run did not finish the 600 files that waited: %s", out)
	}
	if o := orphans(t, w.raw, w.media); len(o) > 0 {
		t.Errorf("%d files whose rows are gone are left, e.g. %s", len(o), o[0])
	}
}

// orphans returns the files under media that no row of raw names.
func orphans(t *testing.T, raw *sql.DB, media string) []string {
	t.Helper()
	referenced := map[string]bool{}
	for _, f := range dbtest.Files(t, raw) {
		referenced[f] = true
	}
	var out []string
	for _, f := range filesIn(t, media) {
		if !referenced[f] {
			out = append(out, f)
		}
	}
	return out
}

func wantFile(t *testing.T, media, file string, want bool, when string) {
	t.Helper()
	_, err := os.Stat(filepath.Join(media, file))
	if got := err == nil; got != want {
		t.Errorf("%s: file %s exists = %v, want %v", when, file, got, want)
	}
}

// TestWriteBackKeepsItsFileSQLite: on SQLite, in autocommit (Django's
// default), the row written back keeps its file.
func TestWriteBackKeepsItsFileSQLite(t *testing.T) {
	checkWriteBack(t, sqliteWriteBackInstall(t), false)
}

// TestWriteBackKeepsItsFilePostgres: on PostgreSQL, in autocommit and
// inside transaction.atomic(), the row written back keeps its file.
func TestWriteBackKeepsItsFilePostgres(t *testing.T) {
	t.Parallel() // a real binary at work: it waits on the disk, the others can run meanwhile
	for _, atomic := range []bool{false, true} {
		t.Run(fmt.Sprintf("atomic=%v", atomic), func(t *testing.T) {
			checkWriteBack(t, postgresWriteBackInstall(t), atomic)
		})
	}
}

// TestWriteBackWithoutGraceLosesTheFile: the same race with --file-grace
// 0 loses the file, as the web app's own command does: the guest's row is
// back, and its file is gone. It shows that the tests above can fail.
func TestWriteBackWithoutGraceLosesTheFile(t *testing.T) {
	t.Parallel() // a real binary at work: it waits on the disk, the others can run meanwhile
	for name, install := range map[string]func(*testing.T) writeBackInstall{
		"sqlite": sqliteWriteBackInstall, "postgres": postgresWriteBackInstall,
	} {
		t.Run(name, func(t *testing.T) {
			w := install(t)
			w.race(t, false, "--file-grace", "0")
			if w.guestStatus(t) != "pending" {
				t.Fatalf("the view did not write the row back: %q", w.guestStatus(t))
			}
			wantFile(t, w.media, w.file, false, "with --file-grace 0")
		})
	}
}
