package store_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// TestReadAhead: the batch that ReadAhead read is the one that the next
// DeleteBatch with the same request starts from (Prepare is handed rows
// as they were then), and every row is judged again under the write lock:
// a guest who confirmed after the read, and a row the web app deleted, are
// not deleted by the batch; a row whose file changed since fails the batch
// (ErrBatchChanged), which deletes nothing. A request that is not the one
// read ahead reads anew.
func TestReadAhead(t *testing.T) {
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cutoff := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	rows := []dbtest.Row{
		{Slug: "a", Status: "identifying", File: "stl/a.stl", Created: old},
		{Slug: "b", Status: "identifying", File: "stl/b.stl", Created: old},
		{Slug: "c", Status: "identifying", Created: old},
		{Slug: "d", Status: "identifying", File: "stl/d.stl", Created: old},
	}
	setup := func(t *testing.T) (protocol.DB, *sql.DB, func(string, ...any)) {
		dsn := dbtest.NewMemory(t)
		raw := dbtest.DB(t, dsn)
		dbtest.Insert(t, raw, rows...)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := raw.Exec(q, args...); err != nil {
				t.Fatal(err)
			}
		}
		return proto(dbtest.Open(t, dsn, false)), raw, exec
	}
	var handed []string
	req := protocol.Request{Cutoff: cutoff, Size: 10, MaxFiles: 10,
		Prepare: func(_ context.Context, files []protocol.Submission) (protocol.Prepared, error) {
			handed = handed[:0]
			for _, f := range files {
				handed = append(handed, f.Slug)
			}
			return protocol.Prepared{Files: files}, nil
		}}

	t.Run("judged again", func(t *testing.T) {
		db, raw, exec := setup(t)
		db.ReadAhead(ctx, req)
		exec(`UPDATE submissions_submission SET status = 'confirmed' WHERE slug = 'a'`)
		exec(`DELETE FROM submissions_submission WHERE slug = 'd'`)
		del, err := db.DeleteBatch(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"a", "b", "d"}; !slices.Equal(handed, want) {
			t.Errorf("Prepare was handed %q, want the rows as read ahead, %q", handed, want)
		}
		var got []string
		for _, s := range del.Rows {
			got = append(got, s.Slug)
		}
		if !slices.Equal(got, []string{"b"}) || del.Fileless != 1 {
			t.Errorf("deleted %q and %d without a file, want [b] and 1", got, del.Fileless)
		}
		if left := dbtest.Slugs(t, raw); !slices.Equal(left, []string{"a"}) {
			t.Errorf("rows left: %q, want [a]", left)
		}
	})

	t.Run("file changed", func(t *testing.T) {
		db, raw, exec := setup(t)
		db.ReadAhead(ctx, req)
		exec(`UPDATE submissions_submission SET stl_file = 'stl/other.stl' WHERE slug = 'b'`)
		if _, err := db.DeleteBatch(ctx, req); !errors.Is(err, protocol.ErrBatchChanged) {
			t.Fatalf("DeleteBatch after a file changed: %v, want ErrBatchChanged", err)
		}
		if left := dbtest.Slugs(t, raw); !slices.Equal(left, []string{"a", "b", "c", "d"}) {
			t.Errorf("rows left: %q, want every row", left)
		}
		// The read ahead is spent: the batch read again goes.
		if _, err := db.DeleteBatch(ctx, req); err != nil {
			t.Fatal(err)
		}
		if left := dbtest.Slugs(t, raw); len(left) != 0 {
			t.Errorf("rows left: %q, want none", left)
		}
	})

	t.Run("another request", func(t *testing.T) {
		db, raw, _ := setup(t)
		db.ReadAhead(ctx, req)
		one := req
		one.Size = 1
		del, err := db.DeleteBatch(ctx, one)
		if err != nil {
			t.Fatal(err)
		}
		if len(del.Rows) != 1 || del.Rows[0].Slug != "a" || del.Fileless != 0 {
			t.Errorf("a batch of 1 deleted %+v, want row a alone", del)
		}
		if left := dbtest.Slugs(t, raw); !slices.Equal(left, []string{"b", "c", "d"}) {
			t.Errorf("rows left: %q, want [b c d]", left)
		}
	})
}
