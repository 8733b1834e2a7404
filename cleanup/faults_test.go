package cleanup_test

import (
	"bytes"
	"log/slog"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// faultyFs fails Remove for chosen paths, as a disk would with EACCES or
// EIO, and works normally for every other path. The faults in refuse are
// ones that fs.Check can foresee (a directory this user may not write);
// those in fail only show when the removal is tried (an I/O error).
type faultyFs struct {
	afero.Fs
	fail   map[string]syscall.Errno
	refuse map[string]syscall.Errno
}

func (f faultyFs) Remove(name string) error {
	if errno, ok := f.fail[name]; ok {
		return &os.PathError{Op: "remove", Path: name, Err: errno}
	}
	if errno, ok := f.refuse[name]; ok {
		return &os.PathError{Op: "remove", Path: name, Err: errno}
	}
	return f.Fs.Remove(name)
}

// CheckRemove checks as the file system underneath does, then refuses the
// paths in refuse.
func (f faultyFs) CheckRemove(name string) error {
	if err := fs.Check(f.Fs, name); err != nil {
		return err
	}
	if errno, ok := f.refuse[name]; ok {
		return &os.PathError{Op: "remove", Path: name, Err: errno}
	}
	return nil
}

// TestFailuresKeepTheirRows: a file that cannot be removed, or a path that
// is unsafe, keeps its row when the run can tell before the deletion; every
// other stale row still goes; each failure is logged with slug and path.
// A removal that fails only after its row's deletion committed (an I/O
// error) leaves the file in the journal. Once the fault is gone, the next
// run finishes the job: it removes the journaled file first.
func TestFailuresKeepTheirRows(t *testing.T) {
	old := refNow.Add(-48 * time.Hour)
	dsn := dbtest.NewMemory(t)
	rows := []dbtest.Row{
		{Slug: "ok-1", File: "stl/ok-1.stl"},
		{Slug: "eacces", File: "stl/eacces.stl"},
		{Slug: "ok-2", File: "stl/ok-2.stl"},
		{Slug: "eio", File: "stl/eio.stl"},
		{Slug: "dotdot", File: "../outside.stl"},
		{Slug: "absolute", File: "/etc/hostname"},
		{Slug: "directory", File: "stl/sub"},
		{Slug: "ok-3"},
	}
	for i := range rows {
		rows[i].Status, rows[i].Created = "identifying", old
	}
	dbtest.Insert(t, dbtest.DB(t, dsn), rows...)
	dbtest.Insert(t, dbtest.DB(t, dsn), dbtest.Row{Slug: "live", Status: "pending", Created: old, File: "stl/live.stl"})
	mem, jfs := afero.NewMemMapFs(), afero.NewMemMapFs()
	fstest.Write(t, mem, "stl/ok-1.stl", "stl/eacces.stl", "stl/ok-2.stl", "stl/eio.stl", "stl/sub/inner.stl", "stl/live.stl")
	faulty := faultyFs{Fs: mem,
		refuse: map[string]syscall.Errno{"stl/eacces.stl": syscall.EACCES},
		fail:   map[string]syscall.Errno{"stl/eio.stl": syscall.EIO}}

	var logs bytes.Buffer
	opt := fast(24, refNow)
	opt.Log = slog.New(slog.NewTextHandler(&logs, nil))
	rep, err := runJournaled(t, dbtest.Open(t, dsn, false), faulty, jfs, opt)
	if err != nil {
		t.Fatal(err)
	}
	kept := []string{"absolute", "directory", "dotdot", "eacces"}
	assertEqual(t, "surviving rows", remaining(t, dsn), append(slices.Clone(kept), "live"))
	assertEqual(t, "surviving files", fstest.Files(t, mem),
		[]string{"stl/eacces.stl", "stl/eio.stl", "stl/live.stl", "stl/sub/inner.stl"})
	assertEqual(t, "stale, deleted, failed", []int64{rep.Stale, rep.Deleted, rep.Failed}, []int64{8, 4, 5})
	var reported []string
	for _, f := range rep.Failures {
		reported = append(reported, f.Slug+" "+f.Path)
		if f.Error == "" {
			t.Errorf("failure %s has no error text", f.Slug)
		}
	}
	assertEqual(t, "reported failures", sorted(reported), []string{
		"absolute /etc/hostname", "directory stl/sub", "dotdot ../outside.stl",
		"eacces stl/eacces.stl", "eio stl/eio.stl"})
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	assertEqual(t, "log lines", len(lines), 5)
	for _, want := range []string{"slug=eacces path=stl/eacces.stl", "permission denied", "slug=eio path=stl/eio.stl", "input/output error", "slug=dotdot path=../outside.stl"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if left, err := cleanup.JournalFiles(jfs, journalName); err != nil || len(left) != 1 || left[0] != "stl/eio.stl" {
		t.Errorf("journal after the run: %v, %v; want stl/eio.stl pending", left, err)
	}

	// The fault is fixed: the next run removes the journaled file first,
	// then what it can; the unsafe rows stay for the operator.
	rep, err = runJournaled(t, dbtest.Open(t, dsn, false), mem, jfs, fast(24, refNow))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving rows after the fix", remaining(t, dsn), []string{"absolute", "directory", "dotdot", "live"})
	assertEqual(t, "surviving files after the fix", fstest.Files(t, mem), []string{"stl/live.stl", "stl/sub/inner.stl"})
	assertEqual(t, "pending, failed after the fix", []int64{rep.Pending, rep.Failed}, []int64{1, 3})
	if exists, _ := afero.Exists(jfs, journalName); exists {
		t.Error("the journal is still there after a run that finished everything")
	}
}
