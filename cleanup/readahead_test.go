package cleanup

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// TestPauseReadsTheNextBatch: on SQLite, every batch but the first is read
// while the run pauses for the web app, for exactly the batch that the run
// then deletes (where it starts, and its size); the rows left are exact.
func TestPauseReadsTheNextBatch(t *testing.T) {
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var rows []storetest.Row
	for i := range 9 {
		status := "identifying"
		if i%3 == 2 {
			status = "pending"
		}
		rows = append(rows, storetest.Row{Slug: fmt.Sprintf("s%d", i), Status: status, Created: old})
	}
	log, m, j := observe(t, rows...)
	rep, err := Run(context.Background(), log, afero.NewMemMapFs(), j, Options{TTLHours: 24,
		Now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), BatchSize: 2, Pause: time.Millisecond})
	if err != nil || rep.Deleted != 6 {
		t.Fatalf("Run = %+v, %v; want 6 deleted", rep, err)
	}
	if len(log.calls) < 3 {
		t.Fatalf("calls %q: want more than one batch", log.calls)
	}
	for i, c := range log.calls {
		switch {
		case i == 0 && c[:6] != "delete":
			t.Errorf("call 0 is %q, want the first batch's delete", c)
		case i%2 == 1 && (i+1 >= len(log.calls) || "read"+log.calls[i+1][6:] != c):
			t.Errorf("calls %q: call %d is not a read of the batch deleted next", log.calls, i)
		}
	}
	slugs, err := m.Slugs()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"s2", "s5", "s8"}; !slices.Equal(slugs, want) {
		t.Errorf("rows left %v, want %v", slugs, want)
	}
}
