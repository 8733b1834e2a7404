package store_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// TestStatsEqualsSQL: on the web app's reference database, Stats agrees
// with plain SQL counts and with the plain-Go reading of the staleness rule in docs/design.md.
func TestStatsEqualsSQL(t *testing.T) {
	dsn := dbtest.LoadMemory(t, dbtest.Testdata(t, "reference", "webapp.sqlite3"))
	raw := dbtest.DB(t, dsn)
	for _, ttl := range []int{1, 24, 72, 100000} {
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		cutoff := now.Add(-time.Duration(ttl) * time.Hour)
		st, err := dbtest.Open(t, dsn, true).Stats(ctx, cutoff)
		if err != nil {
			t.Fatal(err)
		}

		byStatus := map[string]int64{}
		stale := map[string]int64{"identifying": 0, "rejected": 0}
		var oldest time.Time
		var oldestSlug string
		rows, err := raw.Query(`SELECT slug, status, created_at || '', closed_at || '' FROM submissions_submission`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var slug, status, created string
			var closed sql.NullString
			if err := rows.Scan(&slug, &status, &created, &closed); err != nil {
				t.Fatal(err)
			}
			byStatus[status]++
			since := created
			if status == "rejected" {
				if !closed.Valid {
					continue
				}
				since = closed.String
			}
			ts, err := store.ParseTime(since)
			if err != nil {
				t.Fatal(err)
			}
			if (status == "identifying" || status == "rejected") && ts.Before(cutoff) {
				stale[status]++
				if oldestSlug == "" || ts.Before(oldest) {
					oldest, oldestSlug = ts, slug
				}
			}
		}
		rows.Close()
		if got, want := fmt.Sprint(st.ByStatus), fmt.Sprint(byStatus); got != want {
			t.Errorf("ttl %d: by status %s, want %s", ttl, got, want)
		}
		if got, want := fmt.Sprint(st.Stale), fmt.Sprint(stale); got != want {
			t.Errorf("ttl %d: stale %s, want %s", ttl, got, want)
		}
		switch {
		case oldestSlug == "" && st.Oldest != nil:
			t.Errorf("ttl %d: oldest %v, want none", ttl, st.Oldest)
		case oldestSlug != "" && (st.Oldest == nil || st.Oldest.Slug != oldestSlug || !st.Since.Equal(oldest)):
			t.Errorf("ttl %d: oldest %v at %v, want %s at %v", ttl, st.Oldest, st.Since, oldestSlug, oldest)
		}
	}
}
