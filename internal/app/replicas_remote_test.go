package app

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/internal/s3test"
)

// TestReplicasBeyondOneHost: two, then four sidecars (the real binary,
// each with its own state directory, as on as many hosts) start together
// on one PostgreSQL database and one S3 prefix. Every one exits 0. Every
// stale row is deleted exactly once: the runs' counts add up to the stale
// rows, and none is left. Every stale row's object is removed exactly
// once: its key is in one DeleteObjects request of one run, and no other
// key is in any. What is left is exactly the live rows and their objects.
//
// The runs start together for certain: the test holds the table locked
// (a migration, say) until every run waits for it, then lets go.
func TestReplicasBeyondOneHost(t *testing.T) {
	t.Parallel() // a real binary at work: it waits on the disk, the others can run meanwhile
	bin := binary(t)
	for _, n := range []int{2, 4} {
		t.Run(fmt.Sprintf("%d at once", n), func(t *testing.T) {
			pgURL, raw := dbtest.NewPostgres(t)
			s3 := s3test.NewS3(t)
			if err := dbtest.GeneratePostgres(raw, dbtest.Spec{Rows: 2400, Stale: 1500, Recent: 50, Files: true, Now: generatedNow}); err != nil {
				t.Fatal(err)
			}
			// A third of the rows have no file: both kinds go in the
			// same batches.
			if _, err := raw.Exec(`UPDATE submissions_submission SET stl_file = '' WHERE id % 3 = 0`); err != nil {
				t.Fatal(err)
			}
			all := dbtest.Rows(t, raw, "stl_file")
			s3.WriteDirect(t, slices.DeleteFunc(slices.Collect(maps.Values(all)), func(f string) bool { return f == "" })...)
			stale := dbtest.Rows(t, raw, "stl_file", stalePG)
			live := dbtest.Rows(t, raw, "stl_file", "NOT "+stalePG)
			rec := s3.Record(t)

			migration, err := raw.Begin()
			if err != nil {
				t.Fatal(err)
			}
			defer migration.Rollback()
			if _, err := migration.Exec(`LOCK TABLE submissions_submission IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			cmds := make([]*exec.Cmd, n)
			outs := make([]bytes.Buffer, n)
			errs := make([]error, n)
			exited := make([]chan struct{}, n)
			for i := range cmds {
				cmds[i] = exec.Command(bin, "--db", pgURL, "--media-root", s3.Root, "--state-dir", t.TempDir(),
					"--now", generatedNow.Format(time.RFC3339), "--file-grace", "0", "--batch-size", "50",
					"--busy-timeout", "1m", "--json")
				cmds[i].Env = os.Environ()
				for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL_S3"} {
					cmds[i].Env = append(cmds[i].Env, v+"="+rec.Env(v))
				}
				cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
				if err := cmds[i].Start(); err != nil {
					t.Fatal(err)
				}
				exited[i] = make(chan struct{})
				go func() { errs[i] = cmds[i].Wait(); close(exited[i]) }()
			}
			defer func() {
				for i, cmd := range cmds {
					cmd.Process.Kill()
					<-exited[i]
				}
			}()
			// A bound for a run that never comes to wait, not a pace.
			deadline := time.Now().Add(time.Minute)
			for waiting := 0; waiting < n; {
				if err := raw.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
AND application_name = 'cleanup-stale' AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				for i := range cmds {
					if closed(exited[i]) {
						t.Fatalf("run %d ended before the table was free: %v: %s", i, errs[i], outs[i].String())
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("after a minute, %d of %d runs wait for the table", waiting, n)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := migration.Rollback(); err != nil {
				t.Fatal(err)
			}

			var deleted int64
			for i := range cmds {
				if <-exited[i]; errs[i] != nil {
					t.Fatalf("run %d: %v: %s", i, errs[i], outs[i].String())
				}
				var rep struct {
					Deleted int64 `json:"deleted"`
					Failed  int64 `json:"failed"`
				}
				if err := json.Unmarshal(outs[i].Bytes(), &rep); err != nil || rep.Failed != 0 {
					t.Fatalf("run %d printed %q", i, outs[i].String())
				}
				t.Logf("run %d deleted %d rows", i, rep.Deleted)
				deleted += rep.Deleted
			}
			if deleted != int64(len(stale)) {
				t.Errorf("the runs deleted %d rows together, want the %d stale ones, each once", deleted, len(stale))
			}
			if got, want := dbtest.Rows(t, raw, "stl_file"), live; !maps.Equal(got, want) {
				t.Errorf("%d rows left, want exactly the %d live ones", len(got), len(want))
			}

			removed := removedKeys(t, rec)
			for slug, f := range stale {
				if f != "" && removed[f] != 1 {
					t.Errorf("stale row %s: its object %s removed %d times, want once", slug, f, removed[f])
				}
				delete(removed, f)
			}
			if len(removed) > 0 {
				t.Errorf("keys of no stale row removed: %v", slices.Sorted(maps.Keys(removed)))
			}
			var want []string
			for _, f := range live {
				if f != "" {
					want = append(want, f)
				}
			}
			slices.Sort(want)
			if got := s3.Files(t); !slices.Equal(got, want) {
				t.Errorf("%d objects left, want exactly the %d of the live rows", len(got), len(want))
			}
		})
	}
}

// removedKeys counts, for each key below the prefix, how many times the
// recorded DeleteObjects requests named it. Every write must be one.
func removedKeys(t *testing.T, rec *s3test.Recorder) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, w := range rec.Writes() {
		if w.Method != "POST" || w.Query != "delete=" {
			t.Fatalf("a write that is not DeleteObjects: %s %s?%s", w.Method, w.Path, w.Query)
		}
		var del struct {
			Objects []struct {
				Key string `xml:"Key"`
			} `xml:"Object"`
		}
		if err := xml.Unmarshal(w.Body, &del); err != nil {
			t.Fatalf("DeleteObjects body %q: %v", w.Body, err)
		}
		for _, o := range del.Objects {
			key, ok := strings.CutPrefix(o.Key, s3test.S3Prefix+"/")
			if !ok {
				t.Fatalf("DeleteObjects named %s, outside the prefix", o.Key)
			}
			out[key]++
		}
	}
	return out
}
