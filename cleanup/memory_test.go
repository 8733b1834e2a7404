package cleanup

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// TestReferencesDoNotHoldTheTable: the set of every row's file, which the
// cleanup, the recovery and the sweep read once per run, does not hold the
// table in memory: past its limit it spills to disk, and holds no more
// than its limit, and a block index, while it still answers exactly, and
// still finds exactly the files that several rows name. A set that kept
// every path (or every hash) in memory fails here.
func TestReferencesDoNotHoldTheTable(t *testing.T) {
	const rows, limit = 3000, 300
	old := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var in []dbtest.Row
	for i := range rows {
		f := fmt.Sprintf("stl/2026/11/f%05d.stl", i)
		switch {
		case i%1000 == 7: // a second row names row 6's file
			f = fmt.Sprintf("stl/2026/11/f%05d.stl", i-1)
		case i%1000 == 9: // ... and another spells row 8's otherwise
			f = fmt.Sprintf("stl//2026/11/f%05d.stl", i-1)
		}
		in = append(in, dbtest.Row{Slug: fmt.Sprintf("r%05d", i), Status: "done", Created: old, File: f})
	}
	dsn := dbtest.NewMemory(t)
	dbtest.Insert(t, dbtest.DB(t, dsn), in...)
	db := dbtest.Open(t, dsn, true).(protocol.DB)
	keys := fs.NewKeys(afero.NewMemMapFs())
	defer keys.Close()
	sp := spill{dir: t.TempDir(), limit: limit}

	refs, err := loadReferences(context.Background(), db, keys, sp)
	if err != nil {
		t.Fatal(err)
	}
	defer refs.close()
	if refs.set.file == nil || refs.set.inMemory() > rows/2 {
		t.Fatalf("the set of %d rows' files holds %d hashes in memory (spilled: %v); want at most its limit of %d and an index",
			rows, refs.set.inMemory(), refs.set.file != nil, limit)
	}
	for _, r := range in {
		if used, err := refs.has(keys, r.File); err != nil || !used {
			t.Fatalf("row %s's file %s: used = %v, %v", r.Slug, r.File, used, err)
		}
	}
	for _, f := range []string{"stl/2026/11/none.stl", "stl/2026/11/f99999.stl", "other/f00001.stl"} {
		if used, err := refs.has(keys, f); err != nil || used {
			t.Errorf("%s, which no row names: used = %v, %v", f, used, err)
		}
	}

	sh, err := loadSharing(context.Background(), db, keys, sp)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, ids := range sh.suspects {
		got[k] = fmt.Sprint(ids)
	}
	want := map[string]string{}
	for _, base := range []int{0, 1000, 2000} {
		want[fmt.Sprintf("t:stl/2026/11/f%05d.stl", base+6)] = fmt.Sprintf("[%d %d]", base+7, base+8)
		want[fmt.Sprintf("t:stl/2026/11/f%05d.stl", base+8)] = fmt.Sprintf("[%d %d]", base+9, base+10)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows that share a file:\n got  %v\n want %v", got, want)
	}
}
