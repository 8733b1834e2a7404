package fs_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

// TestFindAliases: every way a row could name a file on a disk is found:
// through a directory symlink (relative, absolute back inside, and a link
// to a link), a file symlink, a hard link; a link out of the tree, and one
// that loops, are opaque (rows below them are resolved one by one); a file
// with no other name has only its own.
func TestFindAliases(t *testing.T) {
	media, out := t.TempDir(), t.TempDir()
	tree(t, media, []string{"stl/2026/11/x.stl", "stl/2026/11/y.stl", "stl/2026/11/lone.stl"}, map[string]string{
		"cur":           "stl/2026/11",
		"abs":           filepath.Join(media, "stl/2026"),
		"via":           "cur",
		"stl/link.stl":  "2026/11/x.stl",
		"stl/arch":      out,
		"stl/dangling":  "nowhere",
		"stl/2026/loop": "..",
	})
	if err := os.Link(filepath.Join(media, "stl/2026/11/y.stl"), filepath.Join(media, "stl/hard.stl")); err != nil {
		t.Fatal(err)
	}
	root := newRootFs(t, media)
	a, err := fs.FindAliases(context.Background(), root, []string{"stl/2026/11/x.stl", "stl/2026/11/y.stl", "stl/2026/11/lone.stl", "stl/none.stl"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"abs/11/x.stl", "cur/x.stl", "stl/2026/11/x.stl", "stl/link.stl", "via/x.stl"},
		{"abs/11/y.stl", "cur/y.stl", "stl/2026/11/y.stl", "stl/hard.stl", "via/y.stl"},
		{"abs/11/lone.stl", "cur/lone.stl", "stl/2026/11/lone.stl", "via/lone.stl"},
		{"stl/none.stl"},
	}
	for i := range want {
		got := slices.Sorted(slices.Values(a.Names[i]))
		if !slices.Equal(got, want[i]) || a.Unknown[i] {
			t.Errorf("names of %s = %q (unknown %v), want %q", want[i][0], got, a.Unknown[i], want[i])
		}
	}
	if !slices.Contains(a.Opaque, "stl/arch/") || !slices.Contains(a.Opaque, "stl/2026/loop/") {
		t.Errorf("opaque = %q, want the link out of the tree and the link that loops", a.Opaque)
	}
}

// TestFindAliasesElsewhere: where names have no aliases (memory, S3), a
// name is its only spelling.
func TestFindAliasesElsewhere(t *testing.T) {
	a, err := fs.FindAliases(context.Background(), afero.NewMemMapFs(), []string{"stl/a.stl"}, nil)
	if err != nil || !slices.Equal(a.Names[0], []string{"stl/a.stl"}) || a.Unknown[0] || len(a.Opaque) != 0 {
		t.Errorf("FindAliases in memory = %+v, %v", a, err)
	}
}
