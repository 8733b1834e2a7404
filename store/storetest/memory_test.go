package storetest_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// TestRowsReadBackWhatWentIn: every field of a row survives the round
// trip through the web app's schema and format (microseconds, a NULL
// closed_at and a set one), ids are assigned in order, and two memory
// databases are apart.
func TestRowsReadBackWhatWentIn(t *testing.T) {
	created := time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)
	in := []storetest.Row{
		{Slug: "guest", Status: "identifying", File: "stl/guest.stl", Created: created},
		{ID: 7, Slug: "rejected", Status: "rejected", Created: created.Add(-time.Hour), Closed: created},
		{Slug: "next", Status: "pending", File: "stl/next.stl", Created: created},
	}
	mem, err := storetest.NewMemoryDB(in...)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	other, err := storetest.NewMemoryDB()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	got, err := mem.Rows()
	if err != nil {
		t.Fatal(err)
	}
	want := append([]storetest.Row(nil), in...)
	want[0].ID, want[2].ID = 1, 8
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows read back:\n%+v\nwant\n%+v", got, want)
	}
	if slugs, err := mem.Slugs(); err != nil || !reflect.DeepEqual(slugs, []string{"guest", "rejected", "next"}) {
		t.Errorf("slugs %v, %v", slugs, err)
	}
	if rows, err := other.Rows(); err != nil || len(rows) != 0 {
		t.Errorf("another memory database holds %v, %v; want nothing", rows, err)
	}
	if err := mem.Insert(storetest.Row{ID: 7, Slug: "dup"}); err == nil {
		t.Error("a second row with id 7 was inserted")
	}
}
