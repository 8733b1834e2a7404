package app

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/internal/s3test"
)

// TestKillNineBeyondOneHost is TestKillNine with the database on
// PostgreSQL and the uploads in an S3 bucket: after every kill, every row
// still in the database has its object, and an object whose row is gone
// is listed in the journal; after one more run, no object is left whose
// row is gone. Kills are driven by observed progress, by turns the stale
// count dropping and a chosen stale row's object going.
func TestKillNineBeyondOneHost(t *testing.T) {
	t.Parallel() // a real binary at work: it waits on the disk, the others can run meanwhile
	bin := binary(t)
	var (
		pgURL, state string
		raw          *sql.DB
		s3           *s3test.S3
		live         map[string]string
	)
	// install makes a fresh install: rows on PostgreSQL, every file in a
	// new bucket.
	install := func() {
		pgURL, raw = dbtest.NewPostgres(t)
		s3 = s3test.NewS3(t)
		if s3.Dir == "" {
			t.Skip(s3test.S3DataEnv + " is not set: cannot watch the objects on the server's disk")
		}
		if err := dbtest.GeneratePostgres(raw, dbtest.Spec{Rows: 3000, Stale: 2000, Recent: 100, Files: true, Now: generatedNow}); err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, f := range dbtest.Rows(t, raw, "stl_file") {
			files = append(files, f)
		}
		s3.WriteDirect(t, files...)
		state = t.TempDir()
		live = dbtest.Rows(t, raw, "stl_file", "NOT "+stalePG)
	}
	install()
	run := func() *exec.Cmd {
		// Small transactions, so that a run has many batches to be
		// killed between.
		cmd := exec.Command(bin, "--db", pgURL, "--media-root", s3.Root, "--state-dir", state,
			"--now", generatedNow.Format(time.RFC3339), "--batch-size", "50", "--tx-target", "1ms")
		cmd.Env = os.Environ()
		for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL_S3"} {
			cmd.Env = append(cmd.Env, v+"="+s3.Env(v))
		}
		return cmd
	}
	object := func(f string) string { return filepath.Join(s3.Dir, s3test.S3Prefix, filepath.FromSlash(f)) }
	count := func() int64 {
		var n int64
		if err := raw.QueryRow(`SELECT count(*) FROM submissions_submission WHERE ` + stalePG).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	rng := rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))
	midRun := 0
	for kill := 1; kill <= 12 && midRun < 4; kill++ {
		before := count()
		if before == 0 {
			install() // the runs finished it: start again
			before = count()
		}
		target := before - 1 - rng.Int64N(max(1, before/2))
		var file string
		if err := raw.QueryRow(`SELECT stl_file FROM submissions_submission WHERE `+stalePG+` ORDER BY id OFFSET $1 LIMIT 1`,
			before-target-1).Scan(&file); err != nil {
			t.Fatal(err)
		}
		cmd := run()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		trigger := fmt.Sprintf("%d stale rows left", target)
		if kill%2 == 0 {
			for count() > target && !closed(exited) {
				time.Sleep(time.Millisecond)
			}
		} else {
			trigger = file + " gone"
			waitForGone(object(file), exited)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		after := count()
		if after < before && after > 0 {
			midRun++
		}
		t.Logf("kill %d at %s: stale rows %d -> %d", kill, trigger, before, after)
		checkRemoteInvariants(t, raw, state, object, s3)
	}
	if midRun < 3 {
		t.Fatalf("only %d kills landed in the middle of the deletion; the test proves nothing", midRun)
	}
	if out, err := run().CombinedOutput(); err != nil {
		t.Fatalf("final run: %v: %s", err, out)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d stale rows left after the final run", n)
	}
	checkRemoteInvariants(t, raw, state, object, s3)
	var want []string
	for _, f := range live {
		want = append(want, f)
	}
	slices.Sort(want)
	if got := s3.Files(t); !slices.Equal(got, want) {
		t.Fatalf("after the final run %d objects are left; want exactly the %d of live rows", len(got), len(want))
	}
}

// stalePG is the stale predicate at generatedNow, 24 h, on PostgreSQL.
const stalePG = `((status = 'identifying' AND created_at < '2026-11-24 12:00:00+00') OR (status = 'rejected' AND closed_at < '2026-11-24 12:00:00+00'))`

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// checkRemoteInvariants: every row has its object, and every object whose
// row is gone is in the journal.
func checkRemoteInvariants(t *testing.T, raw *sql.DB, state string, object func(string) string, s3 *s3test.S3) {
	t.Helper()
	referenced := map[string]bool{}
	for slug, f := range dbtest.Rows(t, raw, "stl_file") {
		referenced[f] = true
		if _, err := os.Stat(object(f)); err != nil {
			t.Fatalf("row %s lost its object: %v", slug, err)
		}
	}
	journaled := map[string]bool{}
	entries, _ := os.ReadDir(state)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".cleanup-stale-pending") {
			continue // the health state file (docs/operating.md, Monitoring)
		}
		for _, f := range journaledFiles(t, filepath.Join(state, e.Name())) {
			journaled[f] = true
		}
	}
	for _, f := range s3.Files(t) {
		if !referenced[f] && !journaled[f] {
			t.Fatalf("object %s lost its row and is not in the journal", f)
		}
	}
}
