package fs_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/s3test"
)

// media is a MEDIA_ROOT under test with its own ways to create files and
// to list what is left, since S3 cannot be written through afero.
type media struct {
	fsys  afero.Fs
	write func(names ...string)
	files func() []string
	s3    bool
}

// eachFs runs a test against afero.MemMapFs, a RootFs and, when a server
// is at hand, an S3Fs: RemoveMany must keep the same promises on all.
func eachFs(t *testing.T, test func(t *testing.T, m media)) {
	bothFs(t, func(t *testing.T, fsys afero.Fs) {
		test(t, media{
			fsys:  fsys,
			write: func(names ...string) { fstest.Write(t, fsys, names...) },
			files: func() []string { return fstest.Files(t, fsys) },
		})
	})
	t.Run("S3Fs", func(t *testing.T) {
		s := s3test.NewS3(t)
		test(t, media{
			fsys:  newS3Fs(t, s, s.Env),
			write: func(names ...string) { s.Write(t, names...) },
			files: func() []string { return s.Files(t) },
			s3:    true,
		})
	})
}

func TestRemoveMany(t *testing.T) {
	eachFs(t, func(t *testing.T, m media) {
		m.write("stl/a.stl", "stl/b.stl", "stl/c.stl", "stl/full/inner.stl", "stl/keep.stl")
		names := []string{
			"stl/a.stl",
			"../outside.stl",
			"stl/never/there.stl",
			"stl/full",
			"stl/./b.stl",
			"/etc/hostname",
			"stl/a.stl", // twice
			"stl/c.stl",
		}
		errs := removeNow(m.fsys, names...)
		if len(errs) != len(names) {
			t.Fatalf("RemoveMany returned %d errors for %d names", len(errs), len(names))
		}
		for i, err := range errs {
			var want error // nil: removed, or already missing
			switch names[i] {
			case "../outside.stl", "/etc/hostname":
				want = fs.ErrUnsafePath
			case "stl/full":
				// A directory is refused where there are directories;
				// on S3 the key names no object, and nothing below it
				// goes.
				if !m.s3 {
					want = fs.ErrUnsafePath
				}
			}
			if want == nil && err != nil || want != nil && !errors.Is(err, want) {
				t.Errorf("RemoveMany: %q: %v, want %v", names[i], err, want)
			}
		}
		if got, want := m.files(), []string{"stl/full/inner.stl", "stl/keep.stl"}; !slices.Equal(got, want) {
			t.Errorf("files left = %q, want %q", got, want)
		}
		if errs := removeNow(m.fsys); len(errs) != 0 {
			t.Errorf("RemoveMany(nil) = %v", errs)
		}
	})
}

// TestRemoveManyReadOnly: a read-only wrapper removes nothing, however
// many at once.
func TestRemoveManyReadOnly(t *testing.T) {
	eachFs(t, func(t *testing.T, m media) {
		m.write("stl/a.stl", "stl/b.stl")
		errs := removeNow(fs.ReadOnly(m.fsys), "stl/a.stl", "stl/b.stl", "stl/missing.stl", "../x.stl")
		if errs[0] == nil || errs[1] == nil {
			t.Errorf("RemoveMany through ReadOnly succeeded: %v", errs)
		}
		if errs[2] != nil {
			t.Errorf("RemoveMany through ReadOnly of a missing file: %v", errs[2])
		}
		if !errors.Is(errs[3], fs.ErrUnsafePath) {
			t.Errorf("RemoveMany through ReadOnly of an unsafe path: %v", errs[3])
		}
		if got, want := m.files(), []string{"stl/a.stl", "stl/b.stl"}; !slices.Equal(got, want) {
			t.Errorf("files left = %q, want %q", got, want)
		}
	})
}

// failingFs fails Remove for one name, as a disk or a server may.
type failingFs struct {
	afero.Fs
	fail string
}

func (f failingFs) Remove(name string) error {
	if name == f.fail {
		return errors.New("injected failure")
	}
	return f.Fs.Remove(name)
}

// TestRemoveManyFailure: one failure is that name's error, and the others
// still go.
func TestRemoveManyFailure(t *testing.T) {
	mem := afero.NewMemMapFs()
	fstest.Write(t, mem, "stl/a.stl", "stl/b.stl", "stl/c.stl")
	errs := removeNow(failingFs{mem, "stl/b.stl"}, "stl/a.stl", "stl/b.stl", "stl/c.stl")
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Errorf("errors = %v, want only the second", errs)
	}
	if got := fstest.Files(t, mem); !slices.Equal(got, []string{"stl/b.stl"}) {
		t.Errorf("files left = %q, want [stl/b.stl]", got)
	}
}
