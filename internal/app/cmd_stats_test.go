package app

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatsCommand: the text and the JSON agree with the reference
// database's own counts, global flags work before and after the
// subcommand, and nothing is changed.
func TestStatsCommand(t *testing.T) {
	dir := install(t)
	db := filepath.Join(dir, "db.sqlite3")
	before := fingerprint(t, dir)

	want := `Submissions by status:
  accepted           75
  done               57
  identifying        69
  pending            61
  printing           72
  rejected           77
  total             411
Stale (older than 24 h, before 2026-11-24T12:00:00Z):
  identifying        46
  rejected           20
  total              66
Oldest stale: s7-0000410 (identifying), created 2026-11-21T08:00:00Z, 4d4h ago
Files whose rows are gone, due for removal by the next run: 0
Files whose rows are gone, waiting for their grace: 0
`
	for _, args := range [][]string{
		{"--db", db, "--now", refNow, "stats"},
		{"stats", "--db", db, "--now", refNow},
		{"--db", "elsewhere.sqlite3", "--now", "2020-01-01T00:00:00Z", "stats", "--db", db, "--now", refNow},
	} {
		r := runCLI(t, args...)
		if r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", args, r.code, r.stderr, r.stdout)
		}
	}

	r := runCLI(t, "stats", "--db", db, "--now", refNow, "--ttl-hours", "1", "--json")
	var got struct {
		TTLHours    int              `json:"ttl_hours"`
		ByStatus    map[string]int64 `json:"by_status"`
		Stale       map[string]int64 `json:"stale"`
		OldestStale *string          `json:"oldest_stale"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("json: exit %d, %v: %q", r.code, err, r.stdout)
	}
	wantStale := len(readLines(t, filepath.Join(repo, "testdata", "reference", "expected-deleted-ttl1.txt")))
	if got.TTLHours != 1 || got.ByStatus["done"] != 57 || len(got.ByStatus) != 6 ||
		got.Stale["identifying"]+got.Stale["rejected"] != int64(wantStale) || got.OldestStale == nil {
		t.Errorf("json: %+v", got)
	}

	r = runCLI(t, "--db", db, "--now", "2026-11-01T00:00:00Z", "stats", "--json")
	if !strings.Contains(r.stdout, `"oldest_stale":null`) || !strings.Contains(r.stdout, `"stale":{"identifying":0,"rejected":0}`) {
		t.Errorf("nothing stale: %q", r.stdout)
	}
	if fingerprint(t, dir) != before {
		t.Error("stats changed the install")
	}
	runCLI(t, "stats", "--db", filepath.Join(dir, "nope.sqlite3")).wantOneLineError(t, 2, "nope.sqlite3")
}
