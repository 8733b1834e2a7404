//go:build unix

package cleanup_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
)

// The journal tells a run which files to remove, so it is trusted only as
// far as the database is (docs/design.md, The journal): a regular file,
// never reached through a link, owned by this user, writable by no one
// else. These tests put something else at its name, on a real disk, and
// check that OpenJournal (real runs) and ReadJournal (dry runs, stats)
// refuse it with ErrJournal and leave everything as it was.

// refuseJournal asserts that both ways of opening the journal at name fail
// with one line of ErrJournal that mentions want.
func refuseJournal(t *testing.T, name, want string) {
	t.Helper()
	_, err := cleanup.OpenJournal(afero.NewOsFs(), name, cleanup.TestMedia)
	if !errors.Is(err, cleanup.ErrJournal) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("OpenJournal: %v; want one line of ErrJournal saying %q", err, want)
	}
	_, err = cleanup.ReadJournal(afero.NewOsFs(), name, &cleanup.TestMedia, time.Minute)
	if !errors.Is(err, cleanup.ErrJournal) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("ReadJournal: %v; want one line of ErrJournal saying %q", err, want)
	}
}

// TestJournalNeverFollowsALink: a symlink at the journal's name is refused,
// whether its target exists or not; the target is neither written nor
// created, and the link stays.
func TestJournalNeverFollowsALink(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	name := filepath.Join(dir, journalName)
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, name); err != nil {
		t.Fatal(err)
	}
	refuseJournal(t, name, "symbolic link")
	if b, err := os.ReadFile(victim); err != nil || len(b) != 0 {
		t.Errorf("the link's target now holds %q (%v)", b, err)
	}

	missing := filepath.Join(outside, "missing")
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(missing, name); err != nil {
		t.Fatal(err)
	}
	refuseJournal(t, name, "symbolic link")
	if _, err := os.Lstat(missing); !os.IsNotExist(err) {
		t.Errorf("the dangling link's target was created: %v", err)
	}
	if target, err := os.Readlink(name); err != nil || target != missing {
		t.Errorf("the link changed: %q, %v", target, err)
	}
}

// TestJournalWritableByOthers: a journal that the group or others may
// write is refused and left as it was, mode and text.
func TestJournalWritableByOthers(t *testing.T) {
	name := filepath.Join(t.TempDir(), journalName)
	text := "cleanup-stale pending removals v2 media-root=\"media\"\nbatch 1 2026-11-25T12:00:00Z\nfile \"stl/a.stl\"\n"
	for _, mode := range []os.FileMode{0o666, 0o620, 0o602} {
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(name, mode); err != nil {
			t.Fatal(err)
		}
		refuseJournal(t, name, "writable by others")
		fi, err := os.Stat(name)
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("mode %04o: now %v, %v", mode, fi.Mode(), err)
		}
		if b, _ := os.ReadFile(name); string(b) != text {
			t.Errorf("mode %04o: the journal changed to %q", mode, b)
		}
		os.Remove(name)
	}
}

// TestJournalWithAnotherLink: a journal that another name shares (a hard
// link planted at the journal's name, to a file that the run's user owns
// elsewhere) is refused, and neither name's content changes: a run would
// otherwise write through to the other file.
func TestJournalWithAnotherLink(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	name := filepath.Join(dir, journalName)
	other := filepath.Join(outside, "precious")
	text := "cleanup-stale pending removals v2 media-root=\"media\"\nbatch 1 2026-11-25T12:00:00Z\nfile \"stl/a.stl\"\n"
	if err := os.WriteFile(other, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(other, name); err != nil {
		t.Fatal(err)
	}
	refuseJournal(t, name, "2 links")
	for _, p := range []string{name, other} {
		if b, err := os.ReadFile(p); err != nil || string(b) != text {
			t.Errorf("%s now holds %q (%v)", p, b, err)
		}
	}
}

// TestJournalOfAnotherUser: a journal owned by another user (nobody) is
// refused, even mode 0600, and left as it was. Only root can give a file
// away, so only root runs it.
func TestJournalOfAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give the journal to another user")
	}
	name := filepath.Join(t.TempDir(), journalName)
	text := "cleanup-stale pending removals v2 media-root=\"media\"\nbatch 1 2026-11-25T12:00:00Z\nfile \"stl/a.stl\"\n"
	if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(name, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	refuseJournal(t, name, "belongs to user 65534")
	if b, _ := os.ReadFile(name); string(b) != text {
		t.Errorf("the journal changed to %q", b)
	}
	if fi, err := os.Stat(name); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 65534 {
		t.Errorf("the journal's owner changed: %v", err)
	}
}

// TestJournalFutureBatchWaitsFromFirstSight: a batch whose time is in the
// future is not trusted: it counts as gone when a run first sees it, so
// its files wait a full grace from then. Later runs keep that time: the
// files become due a grace after the first sight, not a grace after
// every run (which, with runs more often than the grace, would be never).
func TestJournalFutureBatchWaitsFromFirstSight(t *testing.T) {
	head := "cleanup-stale pending removals v2 media-root=\"media\"\n"
	files := "file \"stl/a.stl\"\nfile \"stl/b.stl\"\n"
	for what, text := range map[string]string{
		"batch in 2099":          head + "batch 1 2099-01-01T00:00:00Z\n" + files,
		"batch gone in 2099":     head + "batch 1 2026-11-25T12:00:00Z\n" + files + "gone 1 2099-01-01T00:00:00Z\n",
		"batch and gone in 2099": head + "batch 1 2099-01-01T00:00:00Z\n" + files + "gone 1 2099-01-01T00:00:01Z\n",
	} {
		t.Run(what, func(t *testing.T) { futureBatch(t, text) })
	}
}

func futureBatch(t *testing.T, text string) {
	bothJournalFs(t, func(t *testing.T, fsys afero.Fs, name string) {
		if err := afero.WriteFile(fsys, name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		before := time.Now()
		j := openJournal(t, fsys, name)
		after := time.Now()
		s := cleanup.SummaryAt(j, after, time.Hour)
		if s.Due != 0 || s.Waiting != 2 || s.NextDue.Before(before.Add(time.Hour)) || s.NextDue.After(after.Add(time.Hour)) {
			t.Errorf("first sight between %s and %s: %+v; want 2 waiting, due a grace after it", before, after, s)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		first, err := cleanup.ReadJournalAt(fsys, name, &cleanup.TestMedia, after, time.Hour)
		if err != nil || !first.NextDue.Equal(s.NextDue) {
			t.Fatalf("read back: %+v, %v; want next due %s", first, err, s.NextDue)
		}
		for run := 2; run <= 3; run++ {
			j := openJournal(t, fsys, name)
			if got := j.Summary(time.Hour); !got.NextDue.Equal(first.NextDue) || got.Waiting != 2 {
				t.Errorf("run %d: %+v; want the 2 files due at %s, a grace after the first sight", run, got, first.NextDue)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
		}
		// Once the grace has passed since the first sight, they are due.
		if got, err := cleanup.ReadJournalAt(fsys, name, &cleanup.TestMedia, first.NextDue, time.Hour); err != nil || got.Due != 2 {
			t.Errorf("a grace after the first sight: %+v, %v; want 2 due", got, err)
		}
	})
}

// TestJournalLongLine: a path as long as the database may hold (1.2 MB
// here) is written, read back, compacted and read back again: every line
// that the tool writes, it can read.
func TestJournalLongLine(t *testing.T) {
	bothJournalFs(t, func(t *testing.T, fsys afero.Fs, name string) {
		long := "stl/" + strings.Repeat("deep/", 240_000) + "x.stl"
		j := openJournal(t, fsys, name)
		one, err := j.Add([]string{"stl/short.stl"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.Add([]string{long, "stl/after.stl"}); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		assertEqual(t, "read back", pendingPaths(t, fsys, name), []string{"stl/short.stl", long, "stl/after.stl"})
		if s, err := cleanup.ReadJournal(fsys, name, &cleanup.TestMedia, 0); err != nil || s.Due != 3 {
			t.Errorf("ReadJournal: %+v, %v; want 3 due", s, err)
		}

		// The next run reads it, finishes the first batch, and compacts
		// the journal: the long line goes through the compaction whole.
		j = openJournal(t, fsys, name)
		if got := j.Summary(0).Due; got != 3 {
			t.Errorf("reopened: %d due, want 3", got)
		}
		if err := j.Finish(nil, one); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		assertEqual(t, "after compaction", pendingPaths(t, fsys, name), []string{long, "stl/after.stl"})
		j = openJournal(t, fsys, name)
		if got := j.Summary(0).Due; got != 2 {
			t.Errorf("after compaction: %d due, want 2", got)
		}
		j.Close()
	})
}

// TestJournalCompactionNeverFollowsALink: a symlink planted where a
// compaction writes its new file (the journal's name + ".tmp") is not
// written through: its target stays as it was, and the journal is
// compacted all the same.
func TestJournalCompactionNeverFollowsALink(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	name := filepath.Join(dir, journalName)
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	j := openJournal(t, afero.NewOsFs(), name)
	one, err := j.Add([]string{"stl/a.stl"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Add([]string{"stl/b.stl"}); err != nil {
		t.Fatal(err)
	}
	if err := j.Finish(nil, one); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, name+".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "precious\n" {
		t.Errorf("the link's target now holds %q (%v)", b, err)
	}
	assertEqual(t, "after compaction", pendingPaths(t, afero.NewOsFs(), name), []string{"stl/b.stl"})
	if text := journalText(t, afero.NewOsFs(), name); strings.Contains(text, "a.stl") {
		t.Errorf("not compacted:\n%s", text)
	}
	if fi, err := os.Lstat(name); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("the journal: %v, %v; want a regular file, mode 0600", fi, err)
	}
}

// racingFs is a disk on which another run creates the journal between
// this run's look for it and its creation, as when two runs start at once.
type racingFs struct {
	afero.Fs
	raced bool
}

func (r *racingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&os.O_CREATE == 0 && !r.raced {
		if _, err := os.Stat(name); os.IsNotExist(err) {
			r.raced = true
			if err := os.WriteFile(name, nil, 0o600); err != nil {
				return nil, err
			}
			return nil, &os.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
		}
	}
	return r.Fs.OpenFile(name, flag, perm)
}

// TestJournalCreatedByAnotherRunMeanwhile: two runs start at once and both
// find no journal; the one whose creation comes second opens the journal
// that the first created, instead of failing with "file exists" (which
// TestTwoRunsAtOnce met on one core).
func TestJournalCreatedByAnotherRunMeanwhile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "db.sqlite3.cleanup-stale-pending")
	fsys := &racingFs{Fs: afero.NewOsFs()}
	j, err := cleanup.OpenJournal(fsys, name, cleanup.Media{Name: filepath.Join(dir, "media")})
	if err != nil {
		t.Fatalf("open a journal created meanwhile: %v", err)
	}
	defer j.Close()
	if !fsys.raced {
		t.Fatal("the other run never created the journal: the test proves nothing")
	}
	if fi, err := os.Lstat(name); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the journal: %v, %v", fi, err)
	}
}

// TestJournalNumbersRunningHigh: a journal whose batch numbers reach the
// top of int64 (written by hand, or by a very long history) is numbered
// again from 1 when it is opened, keeps its files, and takes new batches
// that do not overflow; one whose number is past int64 is refused and left
// as it is.
func TestJournalNumbersRunningHigh(t *testing.T) {
	bothJournalFs(t, func(t *testing.T, fsys afero.Fs, name string) {
		high := `cleanup-stale pending removals v3 media-root="media" media-id=""` + "\n" +
			"batch 9223372036854775806 2026-11-25T12:00:00Z\nfile \"stl/a.stl\" missing\n" +
			"batch 9223372036854775807 2026-11-25T12:00:01Z\nfile \"stl/b.stl\" missing\nfile \"stl/c.stl\" missing\n" +
			"done 9223372036854775807 1\n"
		if err := afero.WriteFile(fsys, name, []byte(high), 0o600); err != nil {
			t.Fatal(err)
		}
		j := openJournal(t, fsys, name)
		assertEqual(t, "due after renumbering", j.Summary(0).Due, int64(2))
		text := journalText(t, fsys, name)
		if strings.Contains(text, "922337203685477580") {
			t.Errorf("still numbered high:\n%s", text)
		}
		seq, err := j.Add([]string{"stl/d.stl"})
		if err != nil {
			t.Fatal(err)
		}
		if seq <= 0 || seq > 3 {
			t.Errorf("new batch numbered %d, want 1..3", seq)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		assertEqual(t, "after a reopen", sorted(pendingPaths(t, fsys, name)), []string{"stl/a.stl", "stl/c.stl", "stl/d.stl"})
		j = openJournal(t, fsys, name)
		assertEqual(t, "due after a reopen", j.Summary(0).Due, int64(3))
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}

		past := `cleanup-stale pending removals v3 media-root="media" media-id=""` + "\n" +
			"batch 9223372036854775808 2026-11-25T12:00:00Z\nfile \"stl/a.stl\" missing\n"
		if err := afero.WriteFile(fsys, name, []byte(past), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := cleanup.OpenJournalAt(fsys, name, cleanup.TestMedia, time.Now); !errors.Is(err, cleanup.ErrJournal) {
			t.Errorf("a batch number past int64: %v, want ErrJournal", err)
		}
		assertEqual(t, "left as it was", journalText(t, fsys, name), past)
	})
}
