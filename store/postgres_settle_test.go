package store_test

import (
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// TestPostgresRowWrittenBack: the web app's confirm, in transaction.atomic,
// reads a stale row before the tool's commit deletes it, and saves it
// after: Django's save() finds nothing to UPDATE and INSERTs the whole row
// back, file included. DeleteBatch waits for that transaction to end and
// reports the file as used, so that it is not removed. A transaction
// still open when BusyTimeout runs out leaves the batch Unsettled: its
// files are for the next run to check.
func TestPostgresRowWrittenBack(t *testing.T) {
	for _, tc := range []struct {
		name      string
		writeBack bool // the web app commits its write-back (else it stays open)
	}{{"written back", true}, {"still open", false}} {
		t.Run(tc.name, func(t *testing.T) {
			u, raw := storetest.NewPostgres(t)
			cutoff := stale3(t, raw)
			d, err := store.Open(ctx, u, store.Options{BusyTimeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			webapp, err := raw.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer webapp.Rollback()
			var id int64
			var slug, file string
			if err := webapp.QueryRow(`SELECT id, slug, stl_file FROM `+store.Table+` WHERE slug = 's3'`).Scan(&id, &slug, &file); err != nil || file == "" {
				t.Fatalf("read s3: %v %q", err, file)
			}

			type result struct {
				del protocol.Deleted
				err error
			}
			done := make(chan result)
			go func() {
				del, err := proto(d).DeleteBatch(ctx, cutoff, mustBatch(t, d, cutoff), protocol.Others{})
				done <- result{del, err}
			}()
			// Once the deletion has committed, the web app saves its row.
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
				var n int
				if err := raw.QueryRow(`SELECT count(*) FROM ` + store.Table + ` WHERE slug = 's3'`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the deletion never committed")
				}
			}
			res, err := webapp.Exec(`UPDATE `+store.Table+` SET status = 'pending' WHERE id = $1`, id)
			if n, _ := res.RowsAffected(); err != nil || n != 0 {
				t.Fatalf("the web app's UPDATE: %v, %d rows; want none", err, n)
			}
			if _, err := webapp.Exec(`INSERT INTO `+store.Table+` (id, slug, status, email, stl_file, created_at)
VALUES ($1, $2, 'pending', '', $3, now())`, id, slug, file); err != nil {
				t.Fatal(err)
			}
			if tc.writeBack {
				if err := webapp.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			deletedS3 := false
			for _, s := range r.del.Rows {
				deletedS3 = deletedS3 || s.Slug == "s3"
			}
			if !deletedS3 {
				t.Fatalf("s3 was not deleted: %+v", r.del)
			}
			used := false
			for _, f := range r.del.OtherFiles {
				used = used || f == file
			}
			if tc.writeBack && (!used || r.del.Unsettled) {
				t.Errorf("the row came back, but its file is not reported used: %+v", r.del)
			}
			if !tc.writeBack && !r.del.Unsettled {
				t.Errorf("a transaction was still open, but the batch is settled: %+v", r.del)
			}
		})
	}
}
