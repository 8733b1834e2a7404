package cleanup_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// isStale is the staleness rule of docs/design.md in plain Go, on times rather than text: the reference
// the SQL is held to.
func isStale(r dbtest.Row, cutoff time.Time) bool {
	switch r.Status {
	case "identifying":
		return r.Created.Before(cutoff)
	case "rejected":
		return !r.Closed.IsZero() && r.Closed.Before(cutoff)
	}
	return false
}

// TestRandomInstalls: on random installs (statuses, timestamps at and
// around the cutoff, NULLs, missing files, shared files, random batch
// sizes), the rows deleted are exactly those of the plain-Go predicate,
// and the files removed are exactly those that only deleted rows used.
func TestRandomInstalls(t *testing.T) {
	statuses := []string{"identifying", "rejected", "pending", "accepted", "printing", "done", "archived"}
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 42))
		ttl := []int{0, 1, 24, 24, 24, 168}[rng.IntN(6)]
		now := refNow.Add(time.Duration(rng.IntN(1_000_000)) * time.Microsecond)
		cutoff := cleanup.Cutoff(now, ttl)
		near := func() time.Time {
			switch rng.IntN(4) {
			case 0:
				return cutoff.Add(time.Duration(rng.IntN(3)-1) * time.Microsecond) // -1 µs, at, +1 µs
			case 1:
				return cutoff.Add(time.Duration(rng.IntN(2_000_001)-1_000_000) * time.Microsecond)
			case 2:
				return cutoff.Add(time.Duration(rng.IntN(200)-100) * time.Hour).Truncate(time.Second)
			default:
				return cutoff.Add(time.Duration(rng.IntN(7200)-3600) * time.Second)
			}
		}
		shared := []string{"stl/shared-1.stl", "stl/shared-2.stl", "stl/shared-3.stl"}
		var rows []dbtest.Row
		for i := range 40 + rng.IntN(160) {
			r := dbtest.Row{Slug: fmt.Sprintf("s-%03d", i), Status: statuses[rng.IntN(len(statuses))], Created: near()}
			if rng.IntN(10) < 7 {
				r.Closed = near()
			}
			switch k := rng.IntN(10); {
			case k < 2:
			case k < 7:
				r.File = fmt.Sprintf("stl/2026/11/%s.stl", r.Slug)
			default:
				r.File = shared[rng.IntN(len(shared))]
			}
			rows = append(rows, r)
		}

		dsn := dbtest.NewMemory(t)
		dbtest.Insert(t, dbtest.DB(t, dsn), rows...)
		media := afero.NewMemMapFs()
		onDisk := map[string]bool{}
		for _, r := range rows {
			if r.File != "" && !onDisk[r.File] && rng.IntN(10) < 8 {
				fstest.Write(t, media, r.File)
				onDisk[r.File] = true
			}
		}

		var wantRows []string
		usedByLive := map[string]bool{}
		for _, r := range rows {
			if !isStale(r, cutoff) {
				wantRows = append(wantRows, r.Slug)
				usedByLive[r.File] = true
			}
		}
		var wantFiles []string
		for f := range onDisk {
			usedByStale := slices.ContainsFunc(rows, func(r dbtest.Row) bool { return r.File == f && isStale(r, cutoff) })
			if usedByLive[f] || !usedByStale {
				wantFiles = append(wantFiles, f)
			}
		}

		opt := cleanup.Options{TTLHours: ttl, Now: now, BatchSize: 1 + rng.IntN(20), Pause: cleanup.None, FileGrace: cleanup.None}
		rep, err := run(t, dbtest.Open(t, dsn, false), media, opt)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		assertEqual(t, fmt.Sprintf("seed %d: surviving rows", seed), remaining(t, dsn), sorted(wantRows))
		assertEqual(t, fmt.Sprintf("seed %d: surviving files", seed), fstest.Files(t, media), sorted(wantFiles))
		assertEqual(t, fmt.Sprintf("seed %d: deleted", seed), rep.Deleted, int64(len(rows)-len(wantRows)))
	}
}

// TestConfirmedDuringRun: a guest who confirms while the run is under way
// (a stale identifying row becomes pending between two transactions) is
// not lost: each transaction decides staleness afresh (invariant 1 in docs/design.md).
func TestConfirmedDuringRun(t *testing.T) {
	old := refNow.Add(-48 * time.Hour)
	dsn := dbtest.NewMemory(t)
	raw := dbtest.DB(t, dsn)
	var rows []dbtest.Row
	for i := range 30 {
		rows = append(rows, dbtest.Row{Slug: fmt.Sprintf("guest-%02d", i), Status: "identifying", Created: old,
			File: fmt.Sprintf("stl/guest-%02d.stl", i)})
	}
	dbtest.Insert(t, raw, rows...)
	media := afero.NewMemMapFs()
	for _, r := range rows {
		fstest.Write(t, media, r.File)
	}
	opt := fast(24, refNow)
	opt.BatchSize = 5
	confirmed := false
	opt.Progress = func(*cleanup.Report) {
		if !confirmed {
			if _, err := raw.Exec(`UPDATE submissions_submission SET status = 'pending' WHERE slug = 'guest-25'`); err != nil {
				t.Error(err)
			}
			confirmed = true
		}
	}
	if _, err := run(t, dbtest.Open(t, dsn, false), media, opt); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving rows", remaining(t, dsn), []string{"guest-25"})
	assertEqual(t, "surviving files", fstest.Files(t, media), []string{"stl/guest-25.stl"})
}
