package fs_test

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

// FuzzRemoveConfined: whatever path a row holds, Remove never touches a
// file outside MEDIA_ROOT, and CleanPath never accepts a path that leaves
// it. Seeds are below and in testdata/fuzz/FuzzRemoveConfined.
func FuzzRemoveConfined(f *testing.F) {
	for _, seed := range []string{
		"stl/2026/11/s7-0000042.stl", "../outside/x.stl", "../x.stl", "/etc/hostname",
		"stl/link/x.stl", "stl/abslink/x.stl", "stl/link/../link/x.stl", "stl/filelink.stl",
		"stl/inlink/in.stl", "stl/../../outside/x.stl", ".", "", "stl/2026/../../../x.stl",
	} {
		f.Add(seed)
	}
	media, outside := layoutF(f)
	root, err := fs.NewRootFs(media)
	if err != nil {
		f.Fatal(err)
	}
	defer root.Close()
	canaries := []string{filepath.Join(outside, "x.stl"), filepath.Join(filepath.Dir(media), "x.stl")}

	f.Fuzz(func(t *testing.T, name string) {
		if clean, err := fs.CleanPath(name); err == nil {
			if !filepath.IsLocal(clean) || clean != path.Clean(clean) || strings.HasPrefix(clean, "/") {
				t.Fatalf("CleanPath(%q) = %q, which is not a local path", name, clean)
			}
		}
		_ = removeNow(root, name)[0]
		for _, c := range canaries {
			if _, err := os.Stat(c); err != nil {
				t.Fatalf("Remove(%q) touched %s outside MEDIA_ROOT: %v", name, c, err)
			}
		}
		if _, err := os.Stat(outside); err != nil {
			t.Fatalf("Remove(%q) touched the outside directory: %v", name, err)
		}
	})
}
