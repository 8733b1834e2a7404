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

// TestTreeCacheReadsOnlyWhatChanged: a walk with a cache reads only the
// directories that changed since the walk that filled it, and still finds
// what changed: a file symlink made since, in a directory of its own, is
// an alias. The cache survives its text form. A directory that changed
// too close to the walk that noted it (within the file system's tick) is
// read again.
func TestTreeCacheReadsOnlyWhatChanged(t *testing.T) {
	media := t.TempDir()
	tree(t, media, []string{"stl/a/x.stl", "stl/b/y.stl", "stl/c/z.stl"}, nil)
	root := newRootFs(t, media)
	later := time.Now().Add(time.Hour) // every directory is older than the walk by far
	cache := fs.NewTreeCache()
	fs.SetTreeCacheClock(cache, func() time.Time { return later })
	if _, err := fs.FindAliases(context.Background(), root, []string{"stl/a/x.stl"}, cache); err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if _, err := cache.WriteTo(&text); err != nil {
		t.Fatal(err)
	}
	cache, err := fs.ReadTreeCache(&text)
	if err != nil {
		t.Fatal(err)
	}
	fs.SetTreeCacheClock(cache, func() time.Time { return later })

	if err := os.Symlink("../a/x.stl", filepath.Join(media, "stl/b/link.stl")); err != nil {
		t.Fatal(err)
	}
	before := fs.DirReads()
	a, err := fs.FindAliases(context.Background(), root, []string{"stl/a/x.stl"}, cache)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(a.Names[0])); !slices.Equal(got, []string{"stl/a/x.stl", "stl/b/link.stl"}) {
		t.Errorf("names of stl/a/x.stl = %q, want the link made since too", got)
	}
	if n := fs.DirReads() - before; n != 1 {
		t.Errorf("%d directories read, want 1: only stl/b changed", n)
	}

	// A cache that says it was filled when the directories changed
	// vouches for none of them.
	fresh := fs.NewTreeCache()
	fs.SetTreeCacheClock(fresh, time.Now)
	fs.FindAliases(context.Background(), root, []string{"stl/a/x.stl"}, fresh)
	before = fs.DirReads()
	fs.FindAliases(context.Background(), root, []string{"stl/a/x.stl"}, fresh)
	if n := fs.DirReads() - before; n != 5 {
		t.Errorf("%d directories read with a cache as young as the directories, want all 5", n)
	}
}

// TestTreeCacheRefusesWhatItDidNotWrite: a text that WriteTo did not
// write is an error, never a cache that hides something.
func TestTreeCacheRefusesWhatItDidNotWrite(t *testing.T) {
	for _, bad := range []string{"", "not a cache\n", "cleanup-stale tree v1 at=x\n",
		"cleanup-stale tree v1 at=1\nlink \"x\"\n", "cleanup-stale tree v1 at=1\ndir \"stl\" 1 2\n",
		"cleanup-stale tree v1 at=1\ndir \"stl\" 1 2 3\nsub \"a/b\"\n", "cleanup-stale tree v1 at=1\ndir \"stl\" 1 2 3\nother \"a\"\n",
		"cleanup-stale tree v1 at=1\ndir \"stl\" 1 2 3\nsub \"..\"\n"} {
		if _, err := fs.ReadTreeCache(bytes.NewBufferString(bad)); err == nil && bad != "" {
			t.Errorf("ReadTreeCache(%q) took it", bad)
		}
	}
}
