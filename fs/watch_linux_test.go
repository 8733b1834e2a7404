package fs_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

// watchable skips the test where dir is on a file system whose
// directories are not watched (a network share, overlayfs).
func watchable(t *testing.T, dir string) {
	t.Helper()
	if !fs.Watchable(dir) {
		t.Skipf("%s is on a file system whose directories are not watched", dir)
	}
}

// walked returns a root over a tree of two directories and a cache that
// a first walk filled, whose directories it trusts (the walk is an hour
// after them), and the walk's aliaser.
func walked(t *testing.T) (media string, root *fs.RootFs, cache *fs.TreeCache, al *fs.Aliaser) {
	t.Helper()
	media = t.TempDir()
	watchable(t, media)
	fs.WatchSmallDirectories(t)
	tree(t, media, []string{"stl/a/x.stl", "stl/a/y.stl", "stl/b/z.stl"}, nil)
	root = newRootFs(t, media)
	later := time.Now().Add(time.Hour)
	cache = fs.NewTreeCache()
	fs.SetTreeCacheClock(cache, func() time.Time { return later })
	al, err := fs.NewAliaser(context.Background(), root, cache)
	if err != nil {
		t.Fatal(err)
	}
	return media, root, cache, al
}

// TestWatchKeepsTheToolsOwnRemovals: a directory in which the tool
// removed a file, watched meanwhile, is not read again by the next walk
// (through the cache's text form), which still sees what is there; one
// that changed after the watch ended is read again. (That a watched
// entry needs no margin, though its change time is younger than the
// walk, is TestWatchedNeedsNoMargin's.)
func TestWatchKeepsTheToolsOwnRemovals(t *testing.T) {
	media, root, cache, al := walked(t)
	w := al.Watch([]string{"stl/a"})
	if w == nil {
		t.Fatal("Watch of a directory that the walk found = nil")
	}
	if err := os.Remove(filepath.Join(media, "stl/a/x.stl")); err != nil {
		t.Fatal(err)
	}
	w.Settle()
	var text bytes.Buffer
	if _, err := cache.WriteTo(&text); err != nil {
		t.Fatal(err)
	}
	cache, err := fs.ReadTreeCache(&text)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	fs.SetTreeCacheClock(cache, func() time.Time { return later })
	before := fs.DirReads()
	if _, err := fs.FindAliases(context.Background(), root, []string{"stl/a/y.stl"}, cache); err != nil {
		t.Fatal(err)
	}
	if n := fs.DirReads() - before; n != 0 {
		t.Errorf("%d directories read after the tool's own removal, want 0", n)
	}

	// A link made since is found: the directory's change time moved, and
	// only that directory is read.
	if err := os.Symlink("y.stl", filepath.Join(media, "stl/a/link.stl")); err != nil {
		t.Fatal(err)
	}
	before = fs.DirReads()
	a, err := fs.FindAliases(context.Background(), root, []string{"stl/a/y.stl"}, cache)
	if err != nil {
		t.Fatal(err)
	}
	if n := fs.DirReads() - before; n != 1 {
		t.Errorf("%d directories read after a link was made, want 1", n)
	}
	if got := slices.Sorted(slices.Values(a.Names[0])); !slices.Equal(got, []string{"stl/a/link.stl", "stl/a/y.stl"}) {
		t.Errorf("names of stl/a/y.stl = %q, want the link too", got)
	}
}

// TestWatchSeesAnotherHand: whatever else happens in a watched directory
// while the tool removes a file from it (a symlink or a directory made,
// an entry renamed into it, a hard link, a subdirectory removed) leaves
// its entry as it was, and the next walk reads it again and finds what
// is there.
func TestWatchSeesAnotherHand(t *testing.T) {
	for name, tc := range map[string]struct {
		act   func(media string) error
		reads int64 // stl/a, and what else changed
	}{
		"symlink": {func(m string) error { return os.Symlink("y.stl", filepath.Join(m, "stl/a/link.stl")) }, 1},
		"mkdir":   {func(m string) error { return os.Mkdir(filepath.Join(m, "stl/a/sub"), 0o755) }, 2},
		"rename in": {func(m string) error {
			return os.Rename(filepath.Join(m, "stl/b/z.stl"), filepath.Join(m, "stl/a/z.stl"))
		}, 2},
		"hard link": {func(m string) error { return os.Link(filepath.Join(m, "stl/b/z.stl"), filepath.Join(m, "stl/a/z.stl")) }, 1},
		"chmod":     {func(m string) error { return os.Chmod(filepath.Join(m, "stl/a"), 0o700) }, 1},
		// Between the walk and the watch: the directory is no longer the
		// one the walk noted, and is not watched.
		"symlink before": {func(m string) error { return os.Symlink("y.stl", filepath.Join(m, "stl/a/link.stl")) }, 1},
	} {
		t.Run(name, func(t *testing.T) {
			media, root, cache, al := walked(t)
			before := name == "symlink before"
			if before {
				if err := tc.act(media); err != nil {
					t.Fatal(err)
				}
			}
			w := al.Watch([]string{"stl/a"})
			if w == nil && !before {
				t.Fatal("Watch of a directory that the walk found = nil")
			}
			if err := os.Remove(filepath.Join(media, "stl/a/x.stl")); err != nil {
				t.Fatal(err)
			}
			if !before {
				if err := tc.act(media); err != nil {
					t.Fatal(err)
				}
			}
			w.Settle()
			fs.SetTreeCacheClock(cache, time.Now)
			reads := fs.DirReads()
			a, err := fs.FindAliases(context.Background(), root, []string{"stl/a/y.stl"}, cache)
			if err != nil {
				t.Fatal(err)
			}
			if n := fs.DirReads() - reads; n != tc.reads {
				t.Errorf("%d directories read, want %d: stl/a read again", n, tc.reads)
			}
			if (name == "symlink" || before) && !slices.Contains(a.Names[0], "stl/a/link.stl") {
				t.Errorf("names of stl/a/y.stl = %q, want the link made during the watch", a.Names[0])
			}
		})
	}
}

// TestWatchLeavesSmallDirectoriesAlone: a watch costs its run the
// kernel's teardown, and reading a small directory again costs the next
// walk less: a chunk whose directories hold a few files is not watched.
func TestWatchLeavesSmallDirectoriesAlone(t *testing.T) {
	media := t.TempDir()
	watchable(t, media)
	tree(t, media, []string{"stl/a/x.stl", "stl/b/y.stl"}, nil)
	cache := fs.NewTreeCache()
	later := time.Now().Add(time.Hour)
	fs.SetTreeCacheClock(cache, func() time.Time { return later })
	al, err := fs.NewAliaser(context.Background(), newRootFs(t, media), cache)
	if err != nil {
		t.Fatal(err)
	}
	if w := al.Watch([]string{"stl/a", "stl/b"}); w != nil {
		w.Settle()
		t.Error("Watch of two directories of one file each != nil")
	}
}
