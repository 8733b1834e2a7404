package cleanup_test

import (
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// TestYieldsToTheWebApp: while the cleanup deletes thousands of rows, a
// writer like the web app (BEGIN IMMEDIATE, an insert, COMMIT, in a loop,
// with a busy timeout) gets in between the cleanup's transactions, and
// every row it inserts survives. This checks the mechanism (short
// transactions with a pause between them), not timings; the wait times
// are measured by the busy-writer benchmark.
func TestYieldsToTheWebApp(t *testing.T) {
	dsn := storetest.NewMemory(t)
	if err := storetest.Generate(storetest.DB(t, dsn), storetest.Spec{Rows: 20000, Stale: 12000, Now: refNow}); err != nil {
		t.Fatal(err)
	}
	writer, err := sql.Open("sqlite", dsn+"&_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	writer.SetMaxOpenConns(1)

	var mu sync.Mutex
	var events []string // "tool" or "web", in commit order
	record := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }

	stop, done := make(chan struct{}), make(chan struct{})
	var inserted []string
	var writerErr error
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			slug := fmt.Sprintf("web-%d", i)
			tx, err := writer.Begin()
			if err == nil {
				_, err = tx.Exec(`INSERT INTO submissions_submission (slug, status, email, stl_file, created_at) VALUES (?, 'identifying', '', '', ?)`,
					slug, "2026-11-25 11:59:00")
				if err == nil {
					err = tx.Commit()
				} else {
					tx.Rollback()
				}
			}
			if err != nil {
				writerErr = err
				return
			}
			inserted = append(inserted, slug)
			record("web")
			time.Sleep(time.Millisecond)
		}
	}()

	opt := cleanup.Options{TTLHours: 24, Now: refNow, BatchSize: 300, TxTarget: 200 * time.Microsecond, Pause: 5 * time.Millisecond,
		Progress: func(*cleanup.Report) { record("tool") }}
	rep, err := run(t, storetest.Open(t, dsn, false), afero.NewMemMapFs(), opt)
	close(stop)
	<-done
	if err != nil || writerErr != nil {
		t.Fatalf("cleanup: %v; writer: %v", err, writerErr)
	}
	if rep.Deleted != 12000 {
		t.Fatalf("deleted %d, want 12000", rep.Deleted)
	}

	gaps, served := 0, 0
	for i, e := range events {
		if e != "tool" {
			continue
		}
		for j := i + 1; j < len(events); j++ {
			if events[j] == "tool" {
				gaps++
				if j > i+1 {
					served++
				}
				break
			}
		}
	}
	t.Logf("%d transactions, the writer got in after %d of them", gaps+1, served)
	if gaps < 10 || served*2 < gaps {
		t.Errorf("the writer got in between only %d of %d pairs of transactions", served, gaps)
	}
	left := map[string]bool{}
	for _, s := range storetest.Slugs(t, storetest.DB(t, dsn)) {
		left[s] = true
	}
	for _, s := range inserted {
		if !left[s] {
			t.Fatalf("the web app's row %s is gone", s)
		}
	}
}
