package fs_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/s3test"
)

// eachFsRewrite runs test against each file system with a way to write a
// file at a name again, with new content: a new upload that took a freed
// name, or an S3 key written again in place.
func eachFsRewrite(t *testing.T, test func(t *testing.T, m media, rewrite func(name, body string))) {
	bothFs(t, func(t *testing.T, fsys afero.Fs) {
		test(t, media{
			fsys:  fsys,
			write: func(names ...string) { fstest.Write(t, fsys, names...) },
			files: func() []string { return fstest.Files(t, fsys) },
		}, func(name, body string) {
			if err := afero.WriteFile(fsys, name, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("S3Fs", func(t *testing.T) {
		s := s3test.NewS3(t)
		test(t, media{
			fsys:  newS3Fs(t, s, s.Env),
			write: func(names ...string) { s.Write(t, names...) },
			files: func() []string { return s.Files(t) },
			s3:    true,
		}, func(name, body string) { s.Rewrite(t, name, body) })
	})
}

// TestRemoveTargetsTakesOnlyTheNotedFile: a file goes only if it is still
// the file that was noted. A name removed and written again (a new
// upload under a freed name, an S3 key written in place) keeps its new
// file; a name noted as missing keeps a file that appeared since; a file
// that stayed goes; a name with nothing at it is Gone.
func TestRemoveTargetsTakesOnlyTheNotedFile(t *testing.T) {
	eachFsRewrite(t, func(t *testing.T, m media, rewrite func(name, body string)) {
		m.write("stl/same.stl", "stl/reused.stl", "stl/gone.stl")
		names := []string{"stl/same.stl", "stl/reused.stl", "stl/gone.stl", "stl/appeared.stl"}
		noted := fs.Inspect(context.Background(), m.fsys, names)
		for i, in := range noted {
			if in.Err != nil || in.ID.IsZero() {
				t.Fatalf("Inspect(%s) = %+v", names[i], in)
			}
		}
		if !noted[3].ID.IsMissing() {
			t.Fatalf("Inspect of a missing file = %v, want missing", noted[3].ID)
		}
		if errs := removeNow(m.fsys, "stl/reused.stl", "stl/gone.stl"); errs[0] != nil || errs[1] != nil {
			t.Fatal(errs)
		}
		rewrite("stl/reused.stl", "solid a new upload, another size\n")
		rewrite("stl/appeared.stl", "solid new\n")

		targets := make([]fs.Target, len(names))
		for i, n := range names {
			targets[i] = fs.Target{Path: n, ID: noted[i].ID}
		}
		got := fs.RemoveTargets(context.Background(), m.fsys, targets)
		want := []fs.Outcome{fs.Removed, fs.Replaced, fs.Gone, fs.Replaced}
		for i := range got {
			if got[i].Outcome != want[i] || got[i].Err != nil {
				t.Errorf("%s: %+v, want outcome %d", names[i], got[i], want[i])
			}
		}
		if got, want := m.files(), []string{"stl/appeared.stl", "stl/reused.stl"}; !slices.Equal(got, want) {
			t.Errorf("files left = %q, want %q", got, want)
		}
	})
}

// TestRemoveTargetsZeroIDRemovesNothing: a target without an identity
// matches no file.
func TestRemoveTargetsZeroIDRemovesNothing(t *testing.T) {
	eachFs(t, func(t *testing.T, m media) {
		m.write("stl/a.stl")
		got := fs.RemoveTargets(context.Background(), m.fsys, []fs.Target{{Path: "stl/a.stl"}})
		if got[0].Outcome != fs.Replaced {
			t.Errorf("RemoveTargets without an ID: %+v, want Replaced", got[0])
		}
		if got := m.files(); !slices.Equal(got, []string{"stl/a.stl"}) {
			t.Errorf("files left = %q", got)
		}
	})
}

// TestRemoveTargetsStopsWithTheContext: once the context has ended, no
// removal starts; each target fails with the context's error and every
// file stays.
func TestRemoveTargetsStopsWithTheContext(t *testing.T) {
	eachFs(t, func(t *testing.T, m media) {
		m.write("stl/a.stl", "stl/b.stl")
		noted := fs.Inspect(context.Background(), m.fsys, []string{"stl/a.stl", "stl/b.stl"})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		got := fs.RemoveTargets(ctx, m.fsys, []fs.Target{{"stl/a.stl", noted[0].ID}, {"stl/b.stl", noted[1].ID}})
		for i, r := range got {
			if r.Outcome != fs.Failed || !errors.Is(r.Err, context.Canceled) {
				t.Errorf("target %d: %+v, want Failed with context.Canceled", i, r)
			}
		}
		if got := m.files(); !slices.Equal(got, []string{"stl/a.stl", "stl/b.stl"}) {
			t.Errorf("files left = %q", got)
		}
	})
}

// TestBornBefore: an entry that an earlier version journaled without an
// identity takes the file only if the file is no younger than the entry:
// a file born after it (a new upload at a freed name) stays.
func TestBornBefore(t *testing.T) {
	bothFs(t, func(t *testing.T, fsys afero.Fs) {
		if err := fsys.MkdirAll("stl", 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"stl/journaled-after.stl", "stl/journaled-before.stl"} {
			if err := afero.WriteFile(fsys, n, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		got := fs.RemoveTargets(context.Background(), fsys, []fs.Target{
			{Path: "stl/journaled-after.stl", ID: fs.BornBefore(now.Add(time.Hour))},
			{Path: "stl/journaled-before.stl", ID: fs.BornBefore(now.Add(-time.Hour))},
		})
		if got[0].Outcome != fs.Removed || got[1].Outcome != fs.Replaced {
			t.Errorf("outcomes %+v, want Removed then Replaced", got)
		}
	})
}

// TestFileIDText: what String writes, ParseFileID reads back; what it did
// not write, it refuses.
func TestFileIDText(t *testing.T) {
	fsys := newRootFs(t, t.TempDir())
	if err := afero.WriteFile(fsys, "a.stl", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids := []fs.FileID{fs.Missing, fs.BornBefore(time.Unix(5, 6)), fs.Inspect(context.Background(), fsys, []string{"a.stl"})[0].ID}
	mem := afero.NewMemMapFs()
	afero.WriteFile(mem, "a.stl", []byte("x"), 0o644)
	ids = append(ids, fs.Inspect(context.Background(), mem, []string{"a.stl"})[0].ID)
	for _, id := range ids {
		back, err := fs.ParseFileID(id.String())
		if err != nil || back != id {
			t.Errorf("ParseFileID(%q) = %v, %v; want %v", id.String(), back, err, id)
		}
	}
	for _, bad := range []string{"", "none", "missing:", "inode:1:2", "inode:1:2:x3", "inode:-1:2:b3", "etag:", `etag:""`,
		"etag:unquoted", "stamp:1", "stamp:1:-2", "before:", "before:x", "inode:1:2:b3:4"} {
		if id, err := fs.ParseFileID(bad); err == nil {
			t.Errorf("ParseFileID(%q) = %v, want an error", bad, id)
		}
	}
}
