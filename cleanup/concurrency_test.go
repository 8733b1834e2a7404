package cleanup_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestYieldsToTheWebApp: while the cleanup deletes thousands of rows in
// many transactions, the write lock is free after every one of them: a
// writer like the web app (BEGIN IMMEDIATE, an insert, COMMIT), which does
// not wait at all (busy timeout 0), gets in at each batch's end, and every
// row it inserts survives.
//
// It checks the mechanism at the moments the run itself reports, so it
// does not depend on how fast the machine is. How many transactions there
// are does depend on it (batches adapt to their measured time), but not
// below a floor: from minBatch rows of each status, a batch grows at most
// fourfold at a time, so 1800 stale rows of a status take at least four
// transactions (50, 200, 800, 3200 rows) on any machine. How long a
// waiting writer waits is measured by .ci/bench, against a real Python
// writer.
func TestYieldsToTheWebApp(t *testing.T) {
	dsn := dbtest.NewMemory(t)
	if err := dbtest.Generate(dbtest.DB(t, dsn), dbtest.Spec{Rows: 6000, Stale: 3600, Files: true, Now: refNow}); err != nil {
		t.Fatal(err)
	}
	media := afero.NewMemMapFs()
	writer, err := sql.Open("sqlite", dsn+"&_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	writer.SetMaxOpenConns(1)

	var inserted []string
	var writerErr error
	// No cap on the share of lock time: what is tested is the yield at the
	// end of every transaction, not the pacing.
	opt := cleanup.Options{TTLHours: 24, Now: refNow, BatchSize: 50, TxTarget: time.Millisecond, LockShare: 1,
		Pause: cleanup.None, FileGrace: cleanup.None,
		Progress: func(*cleanup.Report) {
			if writerErr != nil {
				return
			}
			slug := fmt.Sprintf("web-%d", len(inserted))
			writerErr = insertNow(writer, slug)
			inserted = append(inserted, slug)
		}}
	rep, err := run(t, dbtest.Open(t, dsn, false), media, opt)
	if err != nil || writerErr != nil {
		t.Fatalf("cleanup: %v; the writer, after %d inserts: %v", err, len(inserted), writerErr)
	}
	if rep.Deleted != 3600 {
		t.Fatalf("deleted %d, want 3600", rep.Deleted)
	}
	if len(inserted) < 4 {
		t.Fatalf("only %d transactions: the test proves nothing", len(inserted))
	}
	left := map[string]bool{}
	for _, s := range dbtest.Slugs(t, dbtest.DB(t, dsn)) {
		left[s] = true
	}
	for _, s := range inserted {
		if !left[s] {
			t.Fatalf("the web app's row %s is gone", s)
		}
	}
}

// insertNow inserts a new guest in its own write transaction, as the web
// app does on an upload.
func insertNow(db *sql.DB, slug string) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO submissions_submission (slug, status, email, stl_file, created_at) VALUES (?, 'identifying', '', '', ?)`,
		slug, "2026-11-25 11:59:00"); err != nil {
		return err
	}
	return tx.Commit()
}
