package cleanup_test

import (
	"fmt"
	"testing"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// BenchmarkIdleRun is a run with nothing stale, on 1k and on 1M rows, in
// memory: docs/performance.md wants the two about equal, an index seek and no scan.
// The side-by-side figures against the sqlite3 CLI are .ci/bench's.
//
//	go test ./cleanup -run XXX -bench IdleRun
func BenchmarkIdleRun(b *testing.B) {
	for _, rows := range []int{1000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			dsn := dbtest.NewMemory(b)
			if err := dbtest.Generate(dbtest.DB(b, dsn), dbtest.Spec{Rows: rows, Recent: 100, Files: true, Now: refNow}); err != nil {
				b.Fatal(err)
			}
			db := dbtest.Open(b, dsn, false)
			media := afero.NewMemMapFs()
			opt := cleanup.Options{TTLHours: 24, Now: refNow, Pause: cleanup.None, FileGrace: cleanup.None}
			for b.Loop() {
				rep, err := run(b, db, media, opt)
				if err != nil || rep.Stale != 0 {
					b.Fatal(rep, err)
				}
			}
		})
	}
}

// BenchmarkDelete deletes 20k stale rows of 100k, in memory, with and
// without files: the cost of the job itself, without the disk. The pause
// between transactions is left out; it is a fixed share of wall time.
//
//	go test ./cleanup -run XXX -bench Delete -benchtime 5x
func BenchmarkDelete(b *testing.B) {
	for _, files := range []bool{false, true} {
		b.Run(fmt.Sprintf("files=%v", files), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dsn := dbtest.NewMemory(b)
				raw := dbtest.DB(b, dsn)
				if err := dbtest.Generate(raw, dbtest.Spec{Rows: 100_000, Stale: 20_000, Files: files, Now: refNow}); err != nil {
					b.Fatal(err)
				}
				media := afero.NewMemMapFs()
				if files {
					for _, f := range dbtest.Files(b, raw) {
						fstest.Write(b, media, f)
					}
				}
				db := dbtest.Open(b, dsn, false)
				b.StartTimer()
				rep, err := run(b, db, media, cleanup.Options{TTLHours: 24, Now: refNow, Pause: cleanup.None, FileGrace: cleanup.None})
				if err != nil || rep.Deleted != 20_000 {
					b.Fatal(rep, err)
				}
			}
		})
	}
}
