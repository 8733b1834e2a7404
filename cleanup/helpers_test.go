package cleanup_test

import (
	"context"

	"bufio"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// refNow is the instant the reference slugs were computed at.
var refNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fast keeps unit tests quick: tiny batches (many transactions, so paging
// is exercised), no pause, and files removed right after the commit.
func fast(ttlHours int, now time.Time) cleanup.Options {
	return cleanup.Options{TTLHours: ttlHours, Now: now, BatchSize: 7, Pause: cleanup.None, FileGrace: cleanup.None}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// dump renders every row, every column: two dumps are equal when no row
// was changed.
func dump(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	return dbtest.Rows(t, db, dbtest.AllColumns)
}

// without returns all minus drop, sorted.
func without(all, drop []string) []string {
	var out []string
	for _, s := range all {
		if !slices.Contains(drop, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// assertEqual fails unless got equals want. For lists of names it says
// which are missing and which are unexpected, not the whole lists.
func assertEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	g, w := fmt.Sprint(got), fmt.Sprint(want)
	if g == w {
		return
	}
	if gs, ok := any(got).([]string); ok {
		ws := any(want).([]string)
		t.Errorf("%s: missing %v, unexpected %v (got %d, want %d)", what, without(ws, gs), without(gs, ws), len(gs), len(ws))
		return
	}
	t.Errorf("%s:\n got  %s\n want %s", what, g, w)
}

// slugsOf keeps the slugs in db order.
func remaining(t *testing.T, dsn string) []string {
	t.Helper()
	return sorted(dbtest.Slugs(t, dbtest.DB(t, dsn)))
}

// journalName is where the tests keep a journal, in memory.
const journalName = "db.sqlite3.cleanup-stale-pending"

// run runs the cleanup as a real run does, with a journal of its own in
// memory.
func run(t testing.TB, db store.DB, media afero.Fs, opt cleanup.Options) (*cleanup.Report, error) {
	t.Helper()
	return runJournaled(t, db, media, afero.NewMemMapFs(), opt)
}

// runJournaled runs the cleanup with its journal in jfs: open the journal,
// run, close it.
func runJournaled(t testing.TB, db store.DB, media afero.Fs, jfs afero.Fs, opt cleanup.Options) (*cleanup.Report, error) {
	t.Helper()
	j, err := cleanup.OpenJournal(jfs, journalName, cleanup.TestMedia)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := cleanup.Run(context.Background(), db, media, j, opt)
	if cerr := j.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	return rep, err
}

// sweep sweeps as the command line does, with an empty journal of its own
// in memory.
func sweep(t testing.TB, db store.DB, media afero.Fs, opt cleanup.SweepOptions) (*cleanup.SweepReport, error) {
	t.Helper()
	j, err := cleanup.OpenJournal(afero.NewMemMapFs(), journalName, cleanup.TestMedia)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	return cleanup.Sweep(context.Background(), db, media, j, opt)
}
