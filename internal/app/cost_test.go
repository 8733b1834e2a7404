package app

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestFileSyscallsFollowTheWork: a run that deletes 10 stale rows with
// files makes as many file system calls among 3000 rows as among 300, and
// so does the run that removes those files once they fall due: the gate
// asks the database which rows name the candidates, and finds their other
// names in one walk, not with a call per row (docs/design.md). The calls
// are counted by strace, not timed: a machine's speed does not change
// them. A run that looked at each row's file would make at least 2700
// more.
func TestFileSyscallsFollowTheWork(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		dbtest.Unavailable(t, "strace is not installed (apt-get install strace): the test counts the run's system calls")
	}
	t.Parallel()
	bin := binary(t)
	// The file system calls: what names, opens, reads a directory,
	// identifies or removes a file. Reads of the database's pages, memory
	// and scheduling are not counted.
	fileCall := func(name string) bool {
		for _, part := range []string{"stat", "open", "getdents", "unlink", "readlink", "access", "xattr", "rename", "link"} {
			if strings.Contains(name, part) {
				return true
			}
		}
		return false
	}
	// traced runs the binary under strace -f -c and returns its file
	// system calls by name.
	traced := func(dir string, args ...string) map[string]int {
		t.Helper()
		out := filepath.Join(dir, "strace.txt")
		cmd := exec.Command(strace, append([]string{"-f", "-c", "-o", out, bin}, args...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(out)
		calls := map[string]int{}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 5 || !fileCall(f[len(f)-1]) {
				continue
			}
			if n, err := strconv.Atoi(f[3]); err == nil {
				calls[f[len(f)-1]] += n
			}
		}
		return calls
	}
	type costs struct{ grace0, due map[string]int }
	measure := func(rows int) costs {
		dir := t.TempDir()
		db, media := generated(t, dir, dbtest.Spec{Rows: rows, Stale: 10, Files: true})
		run := []string{"--db", db, "--media-root", media, "--now", generatedNow.Format("2006-01-02T15:04:05Z")}
		var c costs
		c.grace0 = traced(dir, append(run, "--file-grace", "0")...)
		// The same 10 rows again, whose files wait a grace: the run that
		// deletes them, then, once stats says that the files are due, the
		// run that removes them.
		db, media = generated(t, t.TempDir(), dbtest.Spec{Rows: rows, Stale: 10, Files: true})
		run = []string{"--db", db, "--media-root", media, "--now", generatedNow.Format("2006-01-02T15:04:05Z")}
		if r := runCLI(t, append(run, "--file-grace", "1s")...); r.code != 0 {
			t.Fatalf("the run that deletes the rows: exit %d: %s", r.code, r.stderr)
		}
		waitFor(t, "10 files due", func() bool {
			r := runCLI(t, append(run, "--file-grace", "1s", "stats", "--json")...)
			var st struct{ Pending int64 }
			return r.code == 0 && json.Unmarshal([]byte(r.stdout), &st) == nil && st.Pending == 10
		})
		c.due = traced(filepath.Dir(db), append(run, "--file-grace", "1s")...)
		if got := filesIn(t, media); len(got) != rows-10 {
			t.Fatalf("%d files left among %d rows, want %d", len(got), rows, rows-10)
		}
		return c
	}
	small, big := measure(300), measure(3000)
	total := func(calls map[string]int) (n int) {
		for _, c := range calls {
			n += c
		}
		return n
	}
	// Slack for what a bigger directory costs without a call per entry:
	// more getdents calls, with 256 KiB each.
	const slack = 50
	for _, phase := range []struct {
		name       string
		small, big map[string]int
	}{{"--file-grace 0", small.grace0, big.grace0}, {"the due run", small.due, big.due}} {
		if total(phase.big) > total(phase.small)+slack {
			t.Errorf("%s: %d file system calls among 3000 rows, %d among 300 (want at most %d more):\n 3000: %s\n  300: %s",
				phase.name, total(phase.big), total(phase.small), slack, fmt.Sprint(phase.big), fmt.Sprint(phase.small))
		}
		t.Logf("%s: %d file system calls among 300 rows, %d among 3000", phase.name, total(phase.small), total(phase.big))
	}
}
