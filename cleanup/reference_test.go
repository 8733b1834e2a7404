package cleanup_test

import (
	"context"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// TestReferenceDatabase runs the cleanup on the database that the web app
// wrote, in memory, and holds it to the slugs that the web app's own
// command deletes from it. Every other row and every other file must
// survive unchanged.
func TestReferenceDatabase(t *testing.T) {
	for _, tc := range []struct {
		ttl      int
		expected string
	}{
		{24, "expected-deleted-ttl24.txt"},
		{1, "expected-deleted-ttl1.txt"},
	} {
		t.Run(tc.expected, func(t *testing.T) {
			dsn := dbtest.LoadMemory(t, dbtest.Testdata(t, "reference", "webapp.sqlite3"))
			raw := dbtest.DB(t, dsn)
			media := fstest.MemCopy(t, dbtest.Testdata(t, "reference", "media"))
			rowsBefore := dump(t, raw)
			fileOf := dbtest.Files(t, raw)
			filesBefore := fstest.Files(t, media)
			want := readLines(t, dbtest.Testdata(t, "reference", tc.expected))

			rep, err := run(t, dbtest.Open(t, dsn, false), media, fast(tc.ttl, refNow))
			if err != nil {
				t.Fatal(err)
			}

			var all, goneFiles []string
			for slug := range rowsBefore {
				all = append(all, slug)
			}
			for _, slug := range want {
				if f := fileOf[slug]; f != "" {
					goneFiles = append(goneFiles, f)
				}
			}
			assertEqual(t, "surviving rows", remaining(t, dsn), without(all, want))
			assertEqual(t, "surviving files", fstest.Files(t, media), without(filesBefore, goneFiles))
			for slug, row := range dump(t, raw) {
				if row != rowsBefore[slug] {
					t.Errorf("row %s changed:\n was %s\n now %s", slug, rowsBefore[slug], row)
				}
			}
			assertEqual(t, "stale, deleted, failed", []int64{rep.Stale, rep.Deleted, rep.Failed},
				[]int64{int64(len(want)), int64(len(want)), 0})
			if len(goneFiles) == 0 || len(goneFiles) == len(filesBefore) {
				t.Fatalf("fixture too weak: %d of %d files to remove", len(goneFiles), len(filesBefore))
			}
		})
	}
}

// TestReferencePreview lists the same rows as the web app deletes, in id
// order, and changes nothing.
func TestReferencePreview(t *testing.T) {
	dsn := dbtest.LoadMemory(t, dbtest.Testdata(t, "reference", "webapp.sqlite3"))
	raw := dbtest.DB(t, dsn)
	media := fstest.MemCopy(t, dbtest.Testdata(t, "reference", "media"))
	rowsBefore, filesBefore := dump(t, raw), fstest.Files(t, media)

	var listed []string
	var started int64 = -1
	rep, err := cleanup.Preview(context.Background(), dbtest.Open(t, dsn, true), media, fast(24, refNow),
		cleanup.Listing{
			Start: func(r *cleanup.Report) error { started = r.Stale; return nil },
			Row:   func(s store.Submission) error { listed = append(listed, s.Slug); return nil },
		})
	if err != nil {
		t.Fatal(err)
	}
	want := readLines(t, dbtest.Testdata(t, "reference", "expected-deleted-ttl24.txt"))
	assertEqual(t, "listed, in id order", listed, want)
	assertEqual(t, "headline count", started, int64(len(want)))
	assertEqual(t, "report", []any{rep.DryRun, rep.Stale, rep.Deleted, rep.Failed}, []any{true, int64(len(want)), int64(0), int64(0)})
	assertEqual(t, "rows", dump(t, raw), rowsBefore)
	assertEqual(t, "files", fstest.Files(t, media), filesBefore)
}
