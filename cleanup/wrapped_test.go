package cleanup_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// faultyDisk is a test's fault injector: an afero.Fs that fails the
// removal of one file with an I/O error, and otherwise forwards to the
// file system it wraps, which it names through Unwrap (fs.Unwrapper).
type faultyDisk struct {
	afero.Fs
	bad string
}

func (d faultyDisk) Remove(name string) error {
	if name == d.bad {
		return &os.PathError{Op: "remove", Path: name, Err: syscall.EIO}
	}
	return d.Fs.Remove(name)
}

func (d faultyDisk) Unwrap() afero.Fs { return d.Fs }

// silentDisk is faultyDisk without Unwrap: a wrapper that does not say
// what it wraps.
type silentDisk struct{ afero.Fs }

// TestWrappedRootKeepsItsGuarantees: a RootFs on a real disk, wrapped by
// a fault injector, still compares files by what they are and still
// refuses a link to a directory: a stale row that names a live row's file
// through a directory symlink (alias/x.stl for stl/2026-11/x.stl) leaves
// the file, a stale row that names a directory link keeps its row, and
// the injected fault still happens. A wrapper that does not say what it
// wraps compares by spelling, and the live row loses its file: that is
// what Unwrap is for.
func TestWrappedRootKeepsItsGuarantees(t *testing.T) {
	install := func(t *testing.T) (*storetest.Memory, store.DB, *fs.RootFs, string) {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "media")
		for _, d := range []string{"stl/2026-11"} {
			if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range []string{"stl/2026-11/x.stl", "stl/2026-11/own.stl", "stl/2026-11/bad.stl"} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("solid\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink("stl/2026-11", filepath.Join(dir, "alias")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("2026-11", filepath.Join(dir, "stl", "dirlink")); err != nil {
			t.Fatal(err)
		}
		old := refNow.Add(-48 * time.Hour)
		mem, err := storetest.NewMemoryDB(
			storetest.Row{Slug: "stale-alias", Status: "identifying", Created: old, File: "alias/x.stl"},
			storetest.Row{Slug: "live", Status: "pending", Created: old, File: "stl/2026-11/x.stl"},
			storetest.Row{Slug: "stale-own", Status: "identifying", Created: old, File: "stl/2026-11/own.stl"},
			storetest.Row{Slug: "stale-bad", Status: "rejected", Created: old, Closed: old, File: "stl/2026-11/bad.stl"},
			storetest.Row{Slug: "stale-dirlink", Status: "identifying", Created: old, File: "stl/dirlink"},
		)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mem.Close() })
		db, err := store.OpenDSN(context.Background(), mem.DSN, store.Options{BusyTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		root, err := fs.NewRootFs(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { root.Close() })
		return mem, db, root, dir
	}
	run := func(t *testing.T, db store.DB, media afero.Fs) *cleanup.Report {
		t.Helper()
		j, err := cleanup.OpenJournal(afero.NewMemMapFs(), "journal", cleanup.TestMedia)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		rep, err := cleanup.Run(context.Background(), db, media, j, cleanup.Options{TTLHours: 24, Now: refNow, FileGrace: cleanup.None})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	exists := func(dir, f string) bool { _, err := os.Lstat(filepath.Join(dir, f)); return err == nil }

	t.Run("unwraps", func(t *testing.T) {
		mem, db, root, dir := install(t)
		rep := run(t, db, faultyDisk{root, "stl/2026-11/bad.stl"})
		assertEqual(t, "surviving rows", memSlugs(t, mem), []string{"live", "stale-dirlink"})
		assertEqual(t, "failed", rep.Failed, int64(2)) // the directory link, kept; bad.stl, after its commit
		for f, want := range map[string]bool{
			"stl/2026-11/x.stl": true, "stl/2026-11/own.stl": false, "stl/2026-11/bad.stl": true, "stl/dirlink": true, "alias": true,
		} {
			if exists(dir, f) != want {
				t.Errorf("%s exists = %v, want %v", f, !want, want)
			}
		}
	})
	t.Run("does not say what it wraps", func(t *testing.T) {
		_, db, root, dir := install(t)
		run(t, db, silentDisk{root})
		if exists(dir, "stl/2026-11/x.stl") {
			t.Error("the live row's file survived a wrapper that compares by spelling: this test shows nothing")
		}
	})
}
