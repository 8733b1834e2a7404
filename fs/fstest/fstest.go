// Package fstest builds media trees for tests, in memory.
package fstest

import (
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/afero"
)

// MemCopy returns an afero.MemMapFs holding a copy of the directory tree
// at dir, with the same modification times.
func MemCopy(t testing.TB, dir string) afero.Fs {
	t.Helper()
	mem := afero.NewMemMapFs()
	err := filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			return mem.MkdirAll(rel, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := afero.WriteFile(mem, rel, b, 0o644); err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return mem.Chtimes(rel, fi.ModTime(), fi.ModTime())
	})
	if err != nil {
		t.Fatal(err)
	}
	return mem
}

// Files lists every file (not directory) in fsys, as sorted slash paths
// relative to its root.
func Files(t testing.TB, fsys afero.Fs) []string {
	t.Helper()
	var out []string
	err := afero.Walk(fsys, ".", func(p string, fi iofs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			out = append(out, filepath.ToSlash(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// Write creates files in fsys, with their parent directories.
func Write(t testing.TB, fsys afero.Fs, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := fsys.MkdirAll(filepath.Dir(n), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := afero.WriteFile(fsys, n, []byte("solid "+n+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
