package fs_test

import (
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
)

// bothFs runs a test against afero.MemMapFs and a RootFs on a real disk:
// they differ (MemMapFs removes a full directory), and Remove must behave
// the same on both.
func bothFs(t *testing.T, test func(t *testing.T, fsys afero.Fs)) {
	t.Run("MemMapFs", func(t *testing.T) { test(t, afero.NewMemMapFs()) })
	t.Run("RootFs", func(t *testing.T) { test(t, newRootFs(t, t.TempDir())) })
}

func newRootFs(t *testing.T, dir string) *fs.RootFs {
	t.Helper()
	r, err := fs.NewRootFs(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRemove(t *testing.T) {
	bothFs(t, func(t *testing.T, fsys afero.Fs) {
		fstest.Write(t, fsys, "stl/2026/11/a.stl", "stl/2026/11/b.stl", "stl/full/inner.stl")
		if err := fsys.MkdirAll("stl/empty", 0o755); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name    string
			wantErr bool
		}{
			{"stl/2026/11/a.stl", false},
			{"stl/2026/11/a.stl", false}, // already gone: still fine
			{"stl/never/there.stl", false},
			{"stl/full", true},  // a directory is never an upload
			{"stl/empty", true}, // not even an empty one
			{"../outside.stl", true},
			{"/etc/hostname", true},
			{"", true},
		} {
			err := removeNow(fsys, tc.name)[0]
			if (err != nil) != tc.wantErr {
				t.Errorf("Remove(%q) = %v, want error: %v", tc.name, err, tc.wantErr)
			}
		}
		if err := removeNow(fsys, "stl/2026/../2026/11/b.stl")[0]; err != nil {
			t.Errorf("Remove of a non-canonical inside path: %v", err)
		}
		got := fstest.Files(t, fsys)
		if len(got) != 1 || got[0] != "stl/full/inner.stl" {
			t.Errorf("files left = %v, want [stl/full/inner.stl]", got)
		}
		if fi, err := fsys.Stat("stl/empty"); err != nil || !fi.IsDir() {
			t.Errorf("stl/empty should still be a directory: %v", err)
		}
	})
}

func TestReadOnly(t *testing.T) {
	bothFs(t, func(t *testing.T, fsys afero.Fs) {
		fstest.Write(t, fsys, "stl/a.stl")
		if err := removeNow(fs.ReadOnly(fsys), "stl/a.stl")[0]; err == nil {
			t.Fatal("Remove through ReadOnly succeeded")
		}
		if err := fs.Check(fs.ReadOnly(fsys), "stl/a.stl"); err != nil {
			t.Fatalf("Check through ReadOnly: %v", err)
		}
		if _, err := fsys.Stat("stl/a.stl"); err != nil {
			t.Fatalf("file gone after a read-only Remove: %v", err)
		}
	})
}

// layout builds, in a temporary directory, a MEDIA_ROOT ("media") next to
// files that must never be touched ("outside"), and symlinks inside
// MEDIA_ROOT that lead out. It returns the two directories.
func layout(t *testing.T) (media, outside string) {
	t.Helper()
	return makeLayout(t, t.TempDir())
}

// layoutF is layout for a fuzz target, made once for all its inputs.
func layoutF(f *testing.F) (media, outside string) {
	return makeLayout(f, f.TempDir())
}

func makeLayout(t testing.TB, base string) (media, outside string) {
	t.Helper()
	media, outside = filepath.Join(base, "media"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(media, "stl", "2026"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(outside, "x.stl"), filepath.Join(media, "stl", "2026", "in.stl"), filepath.Join(base, "x.stl")} {
		if err := os.WriteFile(f, []byte("solid\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		filepath.Join(media, "stl", "link"):         "../../outside",    // relative, leads out
		filepath.Join(media, "stl", "abslink"):      outside,            // absolute, leads out
		filepath.Join(media, "stl", "filelink.stl"): outside + "/x.stl", // a file link that leads out
		filepath.Join(media, "stl", "inlink"):       "2026",             // stays inside
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	return media, outside
}

// TestConfinement: nothing outside MEDIA_ROOT is touched, whether the path
// says "..", is absolute, or walks through a symlinked directory that
// points outside (invariant 3 in docs/design.md).
func TestConfinement(t *testing.T) {
	media, outside := layout(t)
	root := newRootFs(t, media)
	for _, name := range []string{
		"../outside/x.stl",
		"../x.stl",
		outside + "/x.stl",
		"stl/link/x.stl",
		"stl/abslink/x.stl",
		"stl/link/../link/x.stl",
	} {
		if err := removeNow(root, name)[0]; err == nil {
			t.Errorf("Remove(%q) succeeded; it reaches outside MEDIA_ROOT", name)
		}
	}
	// A symlink that is itself the upload is removed as a link: its target
	// outside stays.
	if err := removeNow(root, "stl/filelink.stl")[0]; err != nil {
		t.Errorf("Remove of a file symlink: %v", err)
	}
	// A symlinked directory that stays inside is fine.
	if err := removeNow(root, "stl/inlink/in.stl")[0]; err != nil {
		t.Errorf("Remove through an inside symlink: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "x.stl")); err != nil {
		t.Fatalf("file outside MEDIA_ROOT touched: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(media, "stl", "filelink.stl")); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("file symlink still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(media, "stl", "2026", "in.stl")); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("inside file still there: %v", err)
	}
}

func TestNewRootFs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{filepath.Join(dir, "missing"), file} {
		if _, err := fs.NewRootFs(bad); !errors.Is(err, fs.ErrNoMediaRoot) {
			t.Errorf("NewRootFs(%q) = %v, want ErrNoMediaRoot", bad, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("NewRootFs created the missing directory")
	}
}
