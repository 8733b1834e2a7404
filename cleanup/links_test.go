package cleanup_test

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// hostileTree is a MEDIA_ROOT on disk as an operator may leave it: a
// directory symlinked from an archive volume, an alias of a month
// directory, a row that names its file through a symlink. Its rows: live
// ones whose files are reached through those links, and stale ones that
// name a directory link, or the live rows' files under another spelling.
func hostileTree(t *testing.T) (dsn, media string) {
	t.Helper()
	media = filepath.Join(t.TempDir(), "media")
	for _, f := range []string{"vol/2026/live.stl", "stl/2026-11/x.stl", "stl/2026-11/y.stl", "stl/stale.stl"} {
		p := filepath.Join(media, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("solid\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"stl/2026":      "../vol/2026",
		"alias":         "stl/2026-11",
		"stl/ylink.stl": "2026-11/y.stl",
		"uploads":       "stl",
	} {
		if err := os.Symlink(target, filepath.Join(media, link)); err != nil {
			t.Fatal(err)
		}
	}
	old := refNow.Add(-48 * time.Hour)
	dsn = dbtest.NewMemory(t)
	dbtest.Insert(t, dbtest.DB(t, dsn),
		dbtest.Row{Slug: "live-vol", Status: "pending", Created: old, File: "stl/2026/live.stl"},
		dbtest.Row{Slug: "live-x", Status: "pending", Created: old, File: "stl/2026-11/x.stl"},
		dbtest.Row{Slug: "live-y", Status: "pending", Created: old, File: "stl/ylink.stl"},
		dbtest.Row{Slug: "dirlink", Status: "identifying", Created: old, File: "stl/2026"},
		dbtest.Row{Slug: "dirlink-slash", Status: "identifying", Created: old, File: "stl/2026/"},
		dbtest.Row{Slug: "alias-of-x", Status: "identifying", Created: old, File: "alias/x.stl"},
		dbtest.Row{Slug: "target-of-y", Status: "identifying", Created: old, File: "stl/2026-11/y.stl"},
		dbtest.Row{Slug: "plain", Status: "identifying", Created: old, File: "stl/stale.stl"},
	)
	return dsn, media
}

// onDisk lists every file and symlink under media, as relative paths.
func onDisk(t *testing.T, media string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(media, func(p string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(media, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestLinksAndAliases: a stale row that names a directory link is kept
// and reported, by the dry run as by the real run; a stale row that names
// a live row's file under another spelling goes, and the file stays; only
// the file that no row uses is removed. Then a sweep through an alias of
// the upload directory removes the one true orphan and no link.
func TestLinksAndAliases(t *testing.T) {
	dsn, media := hostileTree(t)
	root, err := fs.NewRootFs(media)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	allFiles := onDisk(t, media)

	preview, err := cleanup.Preview(context.Background(), dbtest.Open(t, dsn, true), fs.ReadOnly(root), fast(24, refNow),
		cleanup.Listing{Start: func(*cleanup.Report) error { return nil }, Row: func(store.Submission) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	for _, f := range preview.Failures {
		warned = append(warned, f.Slug)
	}
	assertEqual(t, "rows the dry run says a real run keeps", sorted(warned), []string{"dirlink", "dirlink-slash"})
	assertEqual(t, "files after the dry run", onDisk(t, media), allFiles)

	rep, err := run(t, dbtest.Open(t, dsn, false), root, fast(24, refNow))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving rows", remaining(t, dsn), []string{"dirlink", "dirlink-slash", "live-vol", "live-x", "live-y"})
	assertEqual(t, "surviving files", onDisk(t, media), without(allFiles, []string{"stl/stale.stl"}))
	assertEqual(t, "deleted, failed", []int64{rep.Deleted, rep.Failed}, []int64{3, 2})

	// An orphan, old enough; a link to a directory outside MEDIA_ROOT.
	orphan := filepath.Join(media, "stl/2026-11/orphan.stl")
	if err := os.WriteFile(orphan, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(media, "stl/archive")); err != nil {
		t.Fatal(err)
	}
	before := onDisk(t, media)
	for _, dir := range []string{"uploads", "stl"} {
		srep, err := sweep(t, dbtest.Open(t, dsn, false), root,
			cleanup.SweepOptions{Now: time.Now().Add(time.Hour), Grace: cleanup.None, UploadDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if dir == "uploads" {
			assertEqual(t, "orphans removed through the alias", srep.Removed, int64(1))
		}
		assertEqual(t, "files after a sweep of "+dir, onDisk(t, media), without(before, []string{"stl/2026-11/orphan.stl"}))
	}
	if _, err := os.Lstat(orphan); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("the orphan is still there: %v", err)
	}
}
