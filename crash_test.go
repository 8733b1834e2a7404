package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// TestKillNine kills the real binary with SIGKILL at random moments of a
// big cleanup, checks after every kill that no file lost its row and no
// live row lost its file, then lets one run finish the job (SPEC §4.5).
func TestKillNine(t *testing.T) {
	bin := binary(t)
	spec := storetest.Spec{Rows: 30000, Stale: 20000, Recent: 200, Files: true}
	db, media := generated(t, t.TempDir(), spec)
	liveBefore := liveRows(t, db)
	args := func() []string {
		return []string{"--db", db, "--media-root", media, "--now", generatedNow.Format(time.RFC3339)}
	}

	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	maxDelay := 200 * time.Millisecond
	midRun := 0
	for kill := 1; kill <= 12 && midRun < 4; kill++ {
		before := countStale(t, db)
		if before == 0 {
			// A fast machine finished before the kill: start again on a
			// fresh install, with shorter delays.
			db, media = generated(t, t.TempDir(), spec)
			maxDelay /= 2
			continue
		}
		cmd := exec.Command(bin, args()...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10*time.Millisecond + time.Duration(rng.Int64N(int64(maxDelay))))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		after := countStale(t, db)
		if after < before && after > 0 {
			midRun++
		}
		t.Logf("kill %d: stale rows %d -> %d", kill, before, after)
		checkCrashInvariants(t, db, media, liveBefore)
	}
	if midRun < 3 {
		t.Fatalf("only %d kills landed in the middle of the deletion; the test proves nothing", midRun)
	}

	r, err := exec.Command(bin, args()...).CombinedOutput()
	if err != nil {
		t.Fatalf("final run: %v: %s", err, r)
	}
	if n := countStale(t, db); n != 0 {
		t.Fatalf("%d stale rows left after the final run", n)
	}
	checkCrashInvariants(t, db, media, liveBefore)
	if got, want := filesIn(t, media), liveFiles(liveBefore); !slices.Equal(got, want) {
		t.Fatalf("after the final run, %d files are left; want exactly the %d files of live rows", len(got), len(want))
	}
}

// liveRows renders every row that is not stale at generatedNow, every
// column.
func liveRows(t *testing.T, db string) map[string]string {
	t.Helper()
	return rowsOf(t, db, storetest.AllColumns,
		`NOT ((status = 'identifying' AND created_at < '2026-11-24 12:00:00') OR (status = 'rejected' AND closed_at < '2026-11-24 12:00:00'))`)
}

func liveFiles(live map[string]string) []string {
	var out []string
	for slug := range live {
		out = append(out, "stl/2026/11/"+slug+".stl")
	}
	slices.Sort(out)
	return out
}

// filesIn lists the uploads under media, relative to it.
func filesIn(t *testing.T, media string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(media, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
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

// checkCrashInvariants: every file left has its row; every live row is
// exactly as it was and has its file; the database is not corrupt.
func checkCrashInvariants(t *testing.T, db, media string, liveBefore map[string]string) {
	t.Helper()
	raw := openSQL(t, db)
	defer raw.Close()
	var integrity string
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}
	referenced := map[string]bool{}
	for _, f := range storetest.Files(t, raw) {
		referenced[f] = true
	}
	var orphans []string
	for _, f := range filesIn(t, media) {
		if !referenced[f] {
			orphans = append(orphans, f)
		}
	}
	if len(orphans) > 0 {
		t.Fatalf("%d files lost their rows, e.g. %s", len(orphans), orphans[0])
	}
	live := liveRows(t, db)
	if fmt.Sprint(live) != fmt.Sprint(liveBefore) {
		t.Fatalf("live rows changed: %d now, %d before", len(live), len(liveBefore))
	}
	for slug := range live {
		if _, err := os.Stat(filepath.Join(media, "stl", "2026", "11", slug+".stl")); err != nil {
			t.Fatalf("live row %s lost its file: %v", slug, err)
		}
	}
}
