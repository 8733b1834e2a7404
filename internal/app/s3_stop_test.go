package app

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/internal/s3test"
)

// TestSIGTERMWhileS3Stalls: with S3 behind a proxy that never answers a
// DeleteObjects, SIGTERM still ends the run, with exit 0: the removals in
// flight are abandoned after a short grace. The rows are gone, so their
// files stay listed in the journal, and the next run, with S3 answering
// again, removes them and leaves exactly the files of the live rows.
// The run used to wait out ten attempts of a minute each, deaf to the
// signal.
func TestSIGTERMWhileS3Stalls(t *testing.T) {
	bin := binary(t)
	s3 := s3test.NewS3(t)
	db, _ := generated(t, t.TempDir(), dbtest.Spec{Rows: 300, Stale: 200, Recent: 20, Files: true})
	var all, live []string
	for _, f := range rowsOf(t, db, "stl_file") {
		all = append(all, f)
	}
	for _, f := range rowsOf(t, db, "stl_file", "NOT "+staleAtGenerated) {
		live = append(live, s3test.S3Prefix+"/"+f)
	}
	s3.WriteDirect(t, all...)
	const canary = "outside/keep.stl" // outside the prefix
	s3.WriteKeys(t, canary)
	keysBefore := s3.Keys(t)
	stall := s3.Stall(t, func(r s3test.Request) bool { return r.Method == http.MethodPost && r.Query == "delete=" })

	run := func(getenv func(string) string) *exec.Cmd {
		cmd := exec.Command(bin, "--db", db, "--media-root", s3.Root, "--now", generatedNow.Format(time.RFC3339))
		cmd.Env = os.Environ()
		for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL_S3"} {
			cmd.Env = append(cmd.Env, v+"="+getenv(v))
		}
		return cmd
	}
	cmd := run(stall.Env)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	exited := start(t, cmd)
	// The rows of the first batch are deleted once its files are being
	// removed: the proxy holds the removal.
	for stall.Count(http.MethodPost, "delete=") == 0 {
		select {
		case err := <-exited:
			t.Fatalf("the run ended before it removed anything: %v; output %q", err, out.String())
		case <-time.After(time.Millisecond):
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	// The bound is below what the run's own timeouts would take (three
	// attempts of 30 s): only the signal ends it in time.
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v; output %q", err, out.String())
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("still running a minute after SIGTERM: the signal was ignored; output %q", out.String())
	}

	// Nothing was removed, and every file whose row is gone is pending.
	if got := s3.Keys(t); !slices.Equal(got, keysBefore) {
		t.Fatalf("%d keys after the stalled run, want the %d there were", len(got), len(keysBefore))
	}
	gone := len(all) - len(rowsOf(t, db, "stl_file"))
	if gone == 0 {
		t.Fatal("the run deleted no row before the signal: the test proves nothing")
	}
	r := runCLI(t, "--db", db, "--json", "stats")
	var stats struct{ Pending int }
	if err := json.Unmarshal([]byte(r.stdout), &stats); r.code != 0 || err != nil {
		t.Fatalf("stats: exit %d, %v: %q %q", r.code, err, r.stdout, r.stderr)
	}
	if stats.Pending != gone {
		t.Errorf("the journal lists %d pending removals, want the %d files whose rows are gone", stats.Pending, gone)
	}

	// The next run, S3 answering, finishes the job.
	if b, err := run(s3.Env).CombinedOutput(); err != nil {
		t.Fatalf("the next run: %v: %s", err, b)
	}
	want := append(live, canary)
	slices.Sort(want)
	if got := s3.Keys(t); !slices.Equal(got, want) {
		t.Errorf("%d keys after the next run, want exactly the %d of the live rows and the canary", len(got), len(want))
	}
}
