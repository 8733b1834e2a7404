package cleanup_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
)

// bothJournalFs runs a journal test in memory and on a real disk.
func bothJournalFs(t *testing.T, test func(t *testing.T, fsys afero.Fs, name string)) {
	t.Run("memory", func(t *testing.T) { test(t, afero.NewMemMapFs(), journalName) })
	t.Run("disk", func(t *testing.T) {
		test(t, afero.NewOsFs(), filepath.Join(t.TempDir(), journalName))
	})
}

func openJournal(t *testing.T, fsys afero.Fs, name string) *cleanup.Journal {
	t.Helper()
	j, err := cleanup.OpenJournalAt(fsys, name, cleanup.TestMedia, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func journalText(t *testing.T, fsys afero.Fs, name string) string {
	t.Helper()
	b, err := afero.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func pendingPaths(t *testing.T, fsys afero.Fs, name string) []string {
	t.Helper()
	left, err := cleanup.JournalFiles(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return left
}

// TestJournalLifecycle: a batch is listed, fsynced, marked done; a run that
// finishes everything leaves no journal; one that does not leaves exactly
// what is not done, readable by the next run, mode 0600.
func TestJournalLifecycle(t *testing.T) {
	bothJournalFs(t, func(t *testing.T, fsys afero.Fs, name string) {
		j := openJournal(t, fsys, name)
		one, err := j.Add([]string{"stl/a.stl", "stl/b.stl"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.Add([]string{`stl/with "quotes" and ü.stl`, "stl/-dash.stl"}); err != nil {
			t.Fatal(err)
		}
		assertEqual(t, "pending while open", pendingPaths(t, fsys, name),
			[]string{"stl/a.stl", "stl/b.stl", `stl/with "quotes" and ü.stl`, "stl/-dash.stl"})
		if fi, err := fsys.Stat(name); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("journal mode: %v, %v; want 0600", fi.Mode(), err)
		}
		if err := j.Finish([]string{"stl/b.stl"}, one); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		// Batch two and the failed file of batch one stay, nothing else.
		assertEqual(t, "pending after close", sorted(pendingPaths(t, fsys, name)),
			[]string{"stl/-dash.stl", "stl/b.stl", `stl/with "quotes" and ü.stl`})
		if text := journalText(t, fsys, name); strings.Contains(text, "a.stl") || !strings.HasPrefix(text, "cleanup-stale pending removals v3 media-root=\"media\" media-id=\"\"\n") {
			t.Errorf("compacted journal:\n%s", text)
		}

		j = openJournal(t, fsys, name)
		assertEqual(t, "left for the next run", j.Summary(0).Due, int64(3))
		if err := j.Finish(nil, cleanup.LeftBatches(j)...); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		if exists, _ := afero.Exists(fsys, name); exists {
			t.Errorf("a journal with nothing pending is still there:\n%s", journalText(t, fsys, name))
		}
	})
}

// TestJournalTornLastRecord: a last line cut off by a power loss is
// ignored, the whole records before it are read, and the next append
// follows the whole records, not the torn bytes.
func TestJournalTornLastRecord(t *testing.T) {
	bothJournalFs(t, func(t *testing.T, fsys afero.Fs, name string) {
		whole := "cleanup-stale pending removals v1 media-root=\"media\"\n" +
			"batch 4 2026-11-25T12:00:00Z\nfile \"stl/a.stl\"\nfile \"stl/b.stl\"\n"
		for _, torn := range []string{`file "stl/c`, "\x00\x00\x00\x00", `done 4`} {
			if err := afero.WriteFile(fsys, name, []byte(whole+torn), 0o600); err != nil {
				t.Fatal(err)
			}
			assertEqual(t, "pending with a torn "+torn, pendingPaths(t, fsys, name), []string{"stl/a.stl", "stl/b.stl"})
			j := openJournal(t, fsys, name)
			assertEqual(t, "left", j.Summary(0).Due, int64(2))
			if _, err := j.Add([]string{"stl/d.stl"}); err != nil {
				t.Fatal(err)
			}
			assertEqual(t, "after an append", pendingPaths(t, fsys, name), []string{"stl/a.stl", "stl/b.stl", "stl/d.stl"})
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestJournalRefusals: a file that is not a journal, a damaged record
// before the end, and a journal left for another media root are
// ErrJournal, and are left as they are; a journal that another run holds
// is ErrJournalBusy.
func TestJournalRefusals(t *testing.T) {
	bothJournalFs(t, func(t *testing.T, fsys afero.Fs, name string) {
		head := "cleanup-stale pending removals v1 media-root=\"media\"\n"
		for what, text := range map[string]string{
			"not a journal":   "hello\n",
			"damaged record":  head + "batch 1 2026-11-25T12:00:00Z\nfiel \"x\"\nfile \"stl/a.stl\"\n",
			"other media":     "cleanup-stale pending removals v1 media-root=\"/srv/old\"\nbatch 1 2026-11-25T12:00:00Z\nfile \"stl/a.stl\"\n",
			"file before one": head + "file \"stl/a.stl\"\n",
			"header's tail":   "cleanup-stale pending removals v3 media-root=\"media\" media-id=\"\" database=unquoted\nbatch 1 2026-11-25T12:00:00Z\n",
			"newer format":    "cleanup-stale pending removals v4 media-root=\"media\" new-field=1\nbatch 1 2026-11-25T12:00:00Z\n",
		} {
			if err := afero.WriteFile(fsys, name, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := cleanup.OpenJournal(fsys, name, cleanup.TestMedia)
			if !errors.Is(err, cleanup.ErrJournal) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: %v, want one line of ErrJournal", what, err)
			}
			// A rollback meets a newer journal: the refusal names its
			// format, and says what to do (docs/operating.md).
			if what == "newer format" && (err == nil || !strings.Contains(err.Error(), `format "v4", which this version (v3) does not read`)) {
				t.Errorf("a newer journal: %v, want its format named", err)
			}
			if got := journalText(t, fsys, name); got != text {
				t.Errorf("%s: the journal changed to %q", what, got)
			}
		}
		fsys.Remove(name)

		j := openJournal(t, fsys, name)
		if _, err := cleanup.OpenJournal(fsys, name, cleanup.TestMedia); !errors.Is(err, cleanup.ErrJournalBusy) {
			t.Errorf("second open while held: %v, want ErrJournalBusy", err)
		}
		j.Close()
		openJournal(t, fsys, name).Close()
	})
}

// TestJournalDirectoryUnwritable: a journal that cannot be created is
// ErrJournal (the command line makes that exit 2, before anything is
// deleted).
func TestJournalDirectoryUnwritable(t *testing.T) {
	_, err := cleanup.OpenJournal(afero.NewReadOnlyFs(afero.NewMemMapFs()), journalName, cleanup.TestMedia)
	if !errors.Is(err, cleanup.ErrJournal) {
		t.Errorf("read-only file system: %v, want ErrJournal", err)
	}
	dir := filepath.Join(t.TempDir(), "missing")
	_, err = cleanup.OpenJournal(afero.NewOsFs(), filepath.Join(dir, journalName), cleanup.TestMedia)
	if !errors.Is(err, cleanup.ErrJournal) {
		t.Errorf("missing directory: %v, want ErrJournal", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the directory was created: %v", err)
	}
}
