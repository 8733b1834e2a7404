package app

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestSIGTERMDuringADueBacklog: a run takes a backlog of due files through
// the gate a chunk at a time, and notes after each chunk what it finished.
// SIGTERM once the first chunk is noted ends it before the next chunk, or
// cuts the one under way short: the process exits 0 and says that it was
// stopped; every file that the journal still lists is still there, every
// other file whose row is gone is gone, and the next run finishes the
// rest. (A container runtime kills 10 s after its SIGTERM; a backlog of a
// million files used to ignore the signal for 13 s.)
func TestSIGTERMDuringADueBacklog(t *testing.T) {
	t.Parallel() // a real binary at work: it waits on the disk, the others can run meanwhile
	if testing.Short() {
		t.Skip("-short: writes 30000 files")
	}
	bin := binary(t)
	db, media := generated(t, t.TempDir(), dbtest.Spec{Rows: 32000, Stale: 30000, Files: true})
	journal := db + ".cleanup-stale-pending"
	args := func(grace string) []string {
		return []string{"--db", db, "--media-root", media, "--now", generatedNow.Format(time.RFC3339), "--json", "--file-grace", grace}
	}
	if out, err := exec.Command(bin, args("1h")...).Output(); err != nil || !strings.Contains(string(out), `"deleted":30000,`) {
		t.Fatalf("the run that deletes: %v: %s", err, out)
	}
	liveBefore := liveRows(t, db)

	var out bytes.Buffer
	cmd := exec.Command(bin, args("0")...)
	cmd.Stdout, cmd.Stderr = &out, &out
	exited := start(t, cmd)
	waitFor(t, "the first chunk of due files to be noted", func() bool {
		b, _ := os.ReadFile(journal)
		return bytes.Contains(b, []byte("\ndone ")) || !fileExists(journal)
	})
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, cmd, exited, "the run stopped during its due phase"); err != nil {
		t.Fatalf("exit: %v: %s", err, out.String())
	}
	listed := journaledFiles(t, journal)
	if len(listed) == 0 || len(listed) >= 30000 {
		t.Fatalf("%d files listed after the stop: the stop did not land in the due phase, the test proves nothing: %s", len(listed), out.String())
	}
	if !strings.Contains(out.String(), "stopped by a signal") {
		t.Errorf("the run does not say that it was stopped: %s", out.String())
	}
	// Exactly the live rows' files and the listed ones are there.
	want := slices.Concat(liveFiles(liveBefore), listed)
	slices.Sort(want)
	if got := filesIn(t, media); !slices.Equal(got, slices.Compact(want)) {
		t.Errorf("%d files after the stop, want the %d of live rows and the %d listed", len(got), len(liveFiles(liveBefore)), len(listed))
	}

	r, err := exec.Command(bin, args("0")...).Output()
	if err != nil || !strings.Contains(string(r), fmt.Sprintf(`"pending":%d,`, len(listed))) {
		t.Errorf("the next run: %v: %s; want it to finish the %d listed files", err, r, len(listed))
	}
	if got, want := filesIn(t, media), liveFiles(liveBefore); !slices.Equal(got, want) {
		t.Errorf("%d files after the next run, want exactly the %d of live rows", len(got), len(want))
	}
	if fileExists(journal) {
		t.Errorf("the journal is still there: %s", filepath.Base(journal))
	}
}
