package fs_test

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

// tree makes files (with content) and symlinks (name -> target) under dir.
func tree(t *testing.T, dir string, files []string, links map[string]string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("solid\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func exists(t *testing.T, p string) bool {
	t.Helper()
	_, err := os.Lstat(p)
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// TestDirectoryLinksAreNeverRemoved: a row that names a directory, or a
// symlink to one (inside MEDIA_ROOT or out of it, with or without a
// trailing slash), is refused by Check and by Remove, and the link and
// every file below it stay.
func TestDirectoryLinksAreNeverRemoved(t *testing.T) {
	base := t.TempDir()
	media, vol := filepath.Join(base, "media"), filepath.Join(base, "vol")
	tree(t, media, []string{"vol/2026/live.stl", "stl/2025/real/old.stl"}, map[string]string{
		"stl/2026": "../vol/2026", // inside
		"stl/evil": "../vol/2026",
		"stl/arch": vol, // outside, absolute
	})
	tree(t, vol, []string{"kept.stl"}, nil)
	root := newRootFs(t, media)
	for _, name := range []string{"stl/2026", "stl/evil/", "stl/evil", "stl/arch", "stl/2025/real", "stl/2025/real/"} {
		if err := fs.Check(root, name); !errors.Is(err, fs.ErrUnsafePath) {
			t.Errorf("Check(%q) = %v, want ErrUnsafePath", name, err)
		}
		if err := removeNow(root, name)[0]; !errors.Is(err, fs.ErrUnsafePath) {
			t.Errorf("Remove(%q) = %v, want ErrUnsafePath", name, err)
		}
		if errs := removeNow(root, name); !errors.Is(errs[0], fs.ErrUnsafePath) {
			t.Errorf("RemoveMany(%q) = %v, want ErrUnsafePath", name, errs[0])
		}
	}
	for _, p := range []string{"stl/2026", "stl/evil", "stl/arch", "stl/2026/live.stl", "stl/2025/real/old.stl"} {
		if !exists(t, filepath.Join(media, p)) {
			t.Errorf("%s was removed", p)
		}
	}
	if !exists(t, filepath.Join(vol, "kept.stl")) {
		t.Error("a file outside MEDIA_ROOT was removed")
	}
	// A link to a file, and a dangling link, are files: they go, and only
	// they.
	tree(t, media, nil, map[string]string{"stl/file.stl": "../vol/2026/live.stl", "stl/dangling.stl": "nowhere"})
	for _, name := range []string{"stl/file.stl", "stl/dangling.stl"} {
		if err := fs.Check(root, name); err != nil {
			t.Errorf("Check(%q) = %v", name, err)
		}
		if err := removeNow(root, name)[0]; err != nil || exists(t, filepath.Join(media, name)) {
			t.Errorf("Remove(%q) = %v, or still there", name, err)
		}
	}
	if !exists(t, filepath.Join(media, "vol/2026/live.stl")) {
		t.Error("a link's target was removed")
	}
}

// TestMovedDirectoryIsNotFollowed: a directory moved out of MEDIA_ROOT
// after a removal looked into it is not followed there: the next removal
// of a name in it finds nothing to remove.
func TestMovedDirectoryIsNotFollowed(t *testing.T) {
	base := t.TempDir()
	media, out := filepath.Join(base, "media"), filepath.Join(base, "out")
	tree(t, media, []string{"stl/2026/11/a.stl", "stl/2026/11/b.stl"}, nil)
	root := newRootFs(t, media)
	if err := fs.Check(root, "stl/2026/11/a.stl"); err != nil {
		t.Fatal(err)
	}
	if err := removeNow(root, "stl/2026/11/a.stl")[0]; err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(media, "stl/2026/11"), out); err != nil {
		t.Fatal(err)
	}
	if errs := removeNow(root, "stl/2026/11/b.stl"); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if !exists(t, filepath.Join(out, "b.stl")) {
		t.Error("a file in a directory moved out of MEDIA_ROOT was removed")
	}
}

// TestManyDirectoriesManyWorkers: removals from 120 month directories by
// the default 8 workers at once, as a five-year install has them. Under
// -race this also checks that no worker uses another's directory handle.
func TestManyDirectoriesManyWorkers(t *testing.T) {
	media := t.TempDir()
	var names []string
	for m := range 120 {
		for f := range 5 {
			names = append(names, fmt.Sprintf("stl/%d/%02d/f%d.stl", 2020+m/12, m%12+1, f))
		}
	}
	tree(t, media, append(names, "stl/2020/01/live.stl"), nil)
	root := newRootFs(t, media)
	var wg sync.WaitGroup
	errs := make([][]error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []string
			for i := w; i < len(names); i += 8 {
				mine = append(mine, names[i])
				if err := fs.Check(root, names[i]); err != nil {
					t.Error(err)
				}
			}
			errs[w] = removeNow(root, mine...)
		}()
	}
	wg.Wait()
	for w := range errs {
		for _, err := range errs[w] {
			if err != nil {
				t.Error(err)
			}
		}
	}
	for _, n := range names {
		if exists(t, filepath.Join(media, n)) {
			t.Errorf("%s not removed", n)
		}
	}
	if !exists(t, filepath.Join(media, "stl/2020/01/live.stl")) {
		t.Error("a file that was not named was removed")
	}
}

// TestKeysSeeThroughAliases: names that reach one file share a key,
// whether through a directory symlink or a file symlink; different files,
// and a missing file, do not.
func TestKeysSeeThroughAliases(t *testing.T) {
	media := t.TempDir()
	tree(t, media, []string{"stl/2026/11/x.stl", "stl/2026/11/y.stl"}, map[string]string{
		"alias":        "stl/2026/11",
		"stl/link.stl": "2026/11/x.stl",
	})
	root := newRootFs(t, media)
	for _, fsys := range []struct {
		name string
		keys fs.Keys
	}{{"RootFs", fs.NewKeys(root)}, {"ReadOnly", fs.NewKeys(fs.ReadOnly(root))}} {
		k := fsys.keys
		x := k.Key("stl/2026/11/x.stl")
		for _, same := range []string{"alias/x.stl", "stl/link.stl", "stl/2026/../2026/11/x.stl"} {
			if got := k.Key(same); got != x {
				t.Errorf("%s: Key(%q) = %q, want %q (stl/2026/11/x.stl)", fsys.name, same, got, x)
			}
		}
		if k.Key("stl/2026/11/y.stl") == x || k.Key("alias/missing.stl") == x {
			t.Errorf("%s: different files share a key", fsys.name)
		}
		if k.Key("alias/missing.stl") != k.Key("stl/2026/11/missing.stl") {
			t.Errorf("%s: a missing file has two keys through an alias", fsys.name)
		}
		k.Close()
	}
}

// TestKeysFollowAbsoluteLinks: a directory symlink with an absolute target
// back inside MEDIA_ROOT, which os.Root refuses but the web app follows,
// still gives its files their real key.
func TestKeysFollowAbsoluteLinks(t *testing.T) {
	media := t.TempDir()
	tree(t, media, []string{"stl/2026/x.stl"}, map[string]string{"cur": filepath.Join(media, "stl/2026")})
	k := fs.NewKeys(newRootFs(t, media))
	defer k.Close()
	if a, b := k.Key("cur/x.stl"), k.Key("stl/2026/x.stl"); a != b {
		t.Errorf("Key(cur/x.stl) = %q, Key(stl/2026/x.stl) = %q; want equal", a, b)
	}
}
