package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// drain deletes every row of d that is stale at cutoff, in batches of at
// most n rows per status and n rows with a file, as a run does, and
// returns the slugs of the rows with a file that it deleted, in order.
func drain(t testing.TB, d store.DB, cutoff time.Time, n int) []string {
	t.Helper()
	var out []string
	for after := int64(0); ; {
		del, err := proto(d).DeleteBatch(ctx, protocol.Request{Cutoff: cutoff, After: after, Size: n, MaxFiles: n})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range del.Rows {
			out = append(out, s.Slug)
		}
		if del.End == protocol.NoEnd {
			return out
		}
		after = del.End
	}
}

// boundaryRows are rows on both sides of cutoff, to the microsecond, of
// every status, with and without a file, and the slugs of those that
// are not stale.
func boundaryRows(cutoff time.Time) (rows []dbtest.Row, stay []string) {
	old := cutoff.Add(-30 * 24 * time.Hour)
	us := time.Microsecond
	add := func(slug, status string, created, closed time.Time, stale bool) {
		for _, file := range []string{"", "stl/2026/11/" + slug + ".stl"} {
			s := slug
			if file == "" {
				s += "-nofile"
			}
			rows = append(rows, dbtest.Row{ID: int64(len(rows) + 1), Slug: s, Status: status, File: file, Created: created, Closed: closed})
			if !stale {
				stay = append(stay, s)
			}
		}
	}
	add("id-at", "identifying", cutoff, time.Time{}, false)
	add("id-before", "identifying", cutoff.Add(-us), time.Time{}, true)
	add("id-after", "identifying", cutoff.Add(us), time.Time{}, false)
	add("id-old-closed", "identifying", old, cutoff.Add(time.Hour), true)
	add("rj-at", "rejected", old, cutoff, false)
	add("rj-before", "rejected", cutoff.Add(time.Hour), cutoff.Add(-us), true)
	add("rj-after", "rejected", old, cutoff.Add(us), false)
	add("rj-open", "rejected", old, time.Time{}, false)
	for _, status := range []string{"pending", "accepted", "printing", "done", "archived", "Identifying"} {
		add(strings.ToLower(status)+"-old", status, old, old, false)
	}
	return rows, stay
}

// TestPostgresDeletesExactlyTheStaleRows: batch after batch, exactly the
// stale rows go, to the microsecond: a row created at the cutoff stays,
// one created a microsecond before goes. SQLite, on the same rows, does
// the same.
func TestPostgresDeletesExactlyTheStaleRows(t *testing.T) {
	for _, cutoff := range []time.Time{
		time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 24, 12, 0, 0, 123456000, time.UTC),
	} {
		rows, stay := boundaryRows(cutoff)
		for _, n := range []int{1, 3, 1000} {
			u, raw := dbtest.NewPostgres(t)
			dbtest.InsertPostgres(t, raw, rows...)
			d := dbtest.OpenPostgres(t, u, false)
			if got, want := mustCount(t, d, cutoff), int64(len(rows)-len(stay)); got != want {
				t.Errorf("cutoff %v: CountStale = %d, want %d", cutoff, got, want)
			}
			deleted := drain(t, d, cutoff, n)
			if got := dbtest.Slugs(t, raw); fmt.Sprint(got) != fmt.Sprint(stay) {
				t.Errorf("cutoff %v, n %d: left\n%v\nwant\n%v", cutoff, n, got, stay)
			}
			want := []string{"id-before", "id-old-closed", "rj-before"}
			if fmt.Sprint(deleted) != fmt.Sprint(want) {
				t.Errorf("cutoff %v, n %d: deleted rows with a file %v, want %v", cutoff, n, deleted, want)
			}
		}
	}
}

// TestPostgresAgreesWithSQLite: on the same rows, at a cutoff between two
// microseconds, both databases delete the same rows.
func TestPostgresAgreesWithSQLite(t *testing.T) {
	cutoff := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	rows, _ := boundaryRows(cutoff)
	u, raw := dbtest.NewPostgres(t)
	dbtest.InsertPostgres(t, raw, rows...)
	dsn := dbtest.NewMemory(t)
	dbtest.Insert(t, dbtest.DB(t, dsn), rows...)
	at := cutoff.Add(999 * time.Nanosecond)
	pg := drain(t, dbtest.OpenPostgres(t, u, false), at, 2)
	lite := drain(t, dbtest.Open(t, dsn, false), at, 2)
	if fmt.Sprint(pg) != fmt.Sprint(lite) {
		t.Errorf("deleted rows with a file: postgres %v, sqlite %v", pg, lite)
	}
	if p, l := dbtest.Slugs(t, raw), dbtest.Slugs(t, dbtest.DB(t, dsn)); fmt.Sprint(p) != fmt.Sprint(l) {
		t.Errorf("left: postgres %v, sqlite %v", p, l)
	}
}

// TestPostgresReferenceDatabase: the web app's reference database, on
// PostgreSQL, loses exactly the rows that the web app's own command
// deletes, and reads as it does on SQLite.
func TestPostgresReferenceDatabase(t *testing.T) {
	path := dbtest.Testdata(t, "reference", "webapp.sqlite3")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	lite := dbtest.Open(t, dbtest.LoadMemory(t, path), true)
	for _, ttl := range []int{1, 24} {
		u, raw := dbtest.LoadPostgres(t, path)
		d := dbtest.OpenPostgres(t, u, false)
		cutoff := now.Add(-time.Duration(ttl) * time.Hour)
		sameReads(t, d, lite, cutoff)

		before := dbtest.Slugs(t, raw)
		drain(t, d, cutoff, 7)
		after := map[string]bool{}
		for _, s := range dbtest.Slugs(t, raw) {
			after[s] = true
		}
		var deleted []string
		for _, s := range before {
			if !after[s] {
				deleted = append(deleted, s)
			}
		}
		b, err := os.ReadFile(dbtest.Testdata(t, "reference", fmt.Sprintf("expected-deleted-ttl%d.txt", ttl)))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Fields(string(b))
		slices.Sort(want)
		slices.Sort(deleted)
		if fmt.Sprint(deleted) != fmt.Sprint(want) {
			t.Errorf("ttl %d: deleted\n%v\nwant\n%v", ttl, deleted, want)
		}
	}
}

// namedProbe is what sameReads asks Named: files that some rows name, and
// some that none does.
var namedProbe = []string{"stl/2026/11/s7-0000003.stl", "stl/2026/11/s7-0000017.stl", "stl/none.stl", ""}

// sameReads fails unless the read methods of a and b agree at cutoff.
func sameReads(t *testing.T, a, b store.DB, cutoff time.Time) {
	t.Helper()
	read := func(d store.DB) string {
		var s strings.Builder
		n, err := d.CountStale(ctx, cutoff)
		fmt.Fprintln(&s, "count", n, err)
		st, err := d.Stats(ctx, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&s, "stats", st.ByStatus, st.Stale, st.Oldest, st.Since.UTC())
		err = d.EachStale(ctx, cutoff, func(r store.Submission) error { fmt.Fprintln(&s, r); return nil })
		fmt.Fprintln(&s, "stale", err)
		var named []string
		err = proto(d).Named(ctx, protocol.NameQuery{Files: namedProbe, Prefixes: []string{"stl/2026/11/s7-00001"}}, func(file string) error {
			named = append(named, file)
			return nil
		})
		slices.Sort(named)
		fmt.Fprintln(&s, "named", named, err)
		return s.String()
	}
	if ra, rb := read(a), read(b); ra != rb {
		t.Errorf("cutoff %v: the reads differ:\n%s\n%s", cutoff, ra, rb)
	}
}

func mustCount(t testing.TB, d store.DB, cutoff time.Time) int64 {
	t.Helper()
	n, err := d.CountStale(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// stale3 inserts three stale rows: s1 and s3 with a file, s2 without.
func stale3(t testing.TB, raw *sql.DB) time.Time {
	old := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dbtest.InsertPostgres(t, raw,
		dbtest.Row{ID: 10, Slug: "s1", Status: "identifying", File: "stl/s1.stl", Created: old},
		dbtest.Row{ID: 20, Slug: "s2", Status: "rejected", Created: old, Closed: old},
		dbtest.Row{ID: 30, Slug: "s3", Status: "rejected", File: "stl/s3.stl", Created: old, Closed: old},
		dbtest.Row{ID: 40, Slug: "s4", Status: "done", File: "stl/s1.stl", Created: old, Closed: old})
	return old.Add(24 * time.Hour)
}

// TestPostgresBatchHoldsItsRows: a batch's rows are locked before the
// caller's Prepare sees them and stay locked until the commit, so the
// rows that go are the rows Prepare saw, with the files it saw; a change
// made before the batch is what the batch sees.
func TestPostgresBatchHoldsItsRows(t *testing.T) {
	t.Run("locked while prepared", func(t *testing.T) {
		u, raw := dbtest.NewPostgres(t)
		cutoff := stale3(t, raw)
		d := dbtest.OpenPostgres(t, u, false)
		var free string
		del, err := deleteWith(d, cutoff, func(files []store.Submission) (protocol.Prepared, error) {
			// The web app can neither lock nor change a row of the
			// batch now: NOWAIT fails at once where an UPDATE would wait.
			for _, slug := range []string{"s1", "s2", "s3"} {
				_, err := raw.Exec(`SELECT 1 FROM `+store.Table+` WHERE slug = $1 FOR UPDATE NOWAIT`, slug)
				if !isLockNotAvailable(err) {
					t.Errorf("row %s while prepared: FOR UPDATE NOWAIT = %v, want lock_not_available", slug, err)
				}
			}
			free = queryString(t, raw, `SELECT string_agg(slug, ' ' ORDER BY id) FROM (SELECT id, slug FROM `+store.Table+` FOR UPDATE SKIP LOCKED) AS f`)
			return protocol.Prepared{Files: files}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if free != "s4" {
			t.Errorf("rows free while prepared: %q, want s4 alone", free)
		}
		if got := fmt.Sprint(del.Fileless, del.Rows); got != "1 [{10 s1 identifying stl/s1.stl} {30 s3 rejected stl/s3.stl}]" {
			t.Errorf("deleted %s", got)
		}
		wantLeft(t, raw, "s4")
	})
	t.Run("changed before", func(t *testing.T) {
		u, raw := dbtest.NewPostgres(t)
		cutoff := stale3(t, raw)
		exec(t, raw, `UPDATE `+store.Table+` SET stl_file = 'stl/other.stl' WHERE slug = 's3'`)
		d := dbtest.OpenPostgres(t, u, false)
		var seen []store.Submission
		del, err := deleteWith(d, cutoff, func(files []store.Submission) (protocol.Prepared, error) {
			seen = files
			return protocol.Prepared{Files: files}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := "[{10 s1 identifying stl/s1.stl} {30 s3 rejected stl/other.stl}]"
		if fmt.Sprint(seen) != want || fmt.Sprint(del.Rows) != want {
			t.Errorf("prepared %v, deleted %v; want %s for both", seen, del.Rows, want)
		}
		wantLeft(t, raw, "s4")
	})
	t.Run("kept and confirmed", func(t *testing.T) {
		u, raw := dbtest.NewPostgres(t)
		cutoff := stale3(t, raw)
		exec(t, raw, `UPDATE `+store.Table+` SET status = 'pending' WHERE slug = 's3'`)
		d := dbtest.OpenPostgres(t, u, false)
		del, err := deleteWith(d, cutoff, func(files []store.Submission) (protocol.Prepared, error) {
			if fmt.Sprint(files) != "[{10 s1 identifying stl/s1.stl}]" {
				t.Errorf("prepared %v; s3 is no longer stale", files)
			}
			// The caller keeps s1.
			return protocol.Prepared{}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if del.Fileless != 1 || len(del.Rows) != 0 || del.LockHeld <= 0 {
			t.Errorf("deleted %+v, want s2 alone", del)
		}
		wantLeft(t, raw, "s1 s3 s4")
	})
	t.Run("inserted meanwhile", func(t *testing.T) {
		u, raw := dbtest.NewPostgres(t)
		cutoff := stale3(t, raw)
		d := dbtest.OpenPostgres(t, u, false)
		del, err := deleteWith(d, cutoff, func(files []store.Submission) (protocol.Prepared, error) {
			// A row the batch did not lock: nothing holds the insert up,
			// and the batch leaves it to a later one.
			dbtest.InsertPostgres(t, raw, dbtest.Row{ID: 50, Slug: "s50", Status: "identifying", File: "stl/s50.stl", Created: cutoff.Add(-time.Hour)})
			return protocol.Prepared{Files: files}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(del.Rows) != "[{10 s1 identifying stl/s1.stl} {30 s3 rejected stl/s3.stl}]" {
			t.Errorf("deleted %v", del.Rows)
		}
		wantLeft(t, raw, "s4 s50")
		if got := drain(t, d, cutoff, 10); fmt.Sprint(got) != "[s50]" {
			t.Errorf("the next batches deleted %v, want [s50]", got)
		}
		wantLeft(t, raw, "s4")
	})
}

// TestPostgresBatchRollsBack: when Prepare fails, or lets go a row that the
// batch did not give it or names another file than the row's, the batch
// deletes nothing, not even its rows without a file.
func TestPostgresBatchRollsBack(t *testing.T) {
	errJournal := errors.New("journal: disk full")
	for name, prepare := range map[string]func([]store.Submission) (protocol.Prepared, error){
		"prepare fails": func([]store.Submission) (protocol.Prepared, error) {
			return protocol.Prepared{}, errJournal
		},
		"a row not given": func(files []store.Submission) (protocol.Prepared, error) {
			return protocol.Prepared{Files: append(files, store.Submission{ID: 40, Slug: "s4", Status: "done", File: "stl/s1.stl"})}, nil
		},
		"another file": func(files []store.Submission) (protocol.Prepared, error) {
			files[1].File = "stl/s1.stl"
			return protocol.Prepared{Files: files}, nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			u, raw := dbtest.NewPostgres(t)
			cutoff := stale3(t, raw)
			d := dbtest.OpenPostgres(t, u, false)
			if _, err := deleteWith(d, cutoff, prepare); err == nil {
				t.Fatal("DeleteBatch succeeded")
			} else if name == "prepare fails" && !errors.Is(err, errJournal) {
				t.Errorf("DeleteBatch = %v, want Prepare's error", err)
			}
			wantLeft(t, raw, "s1 s2 s3 s4")
		})
	}
}

// TestPostgresBatchHoldsAtMostMaxFiles: a batch holds at most MaxFiles
// rows with a file; it ends before the next one, and the rows after it,
// with a file or without, go in the next batch. Fit says the size that
// would have held MaxFiles rows with a file.
func TestPostgresBatchHoldsAtMostMaxFiles(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	old := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var rows []dbtest.Row
	for i, slug := range []string{"f1", "n1", "f2", "n2", "f3", "n3"} {
		r := dbtest.Row{ID: int64(i + 1), Slug: slug, Status: "identifying", Created: old}
		if slug[0] == 'f' {
			r.File = "stl/" + slug + ".stl"
		}
		rows = append(rows, r)
	}
	dbtest.InsertPostgres(t, raw, rows...)
	cutoff := old.Add(24 * time.Hour)
	d := dbtest.OpenPostgres(t, u, false)
	del, err := proto(d).DeleteBatch(ctx, protocol.Request{Cutoff: cutoff, Size: 10, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(del.Fileless, del.Rows, del.Fit); got != "2 [{1 f1 identifying stl/f1.stl} {3 f2 identifying stl/f2.stl}] 2" {
		t.Errorf("first batch: deleted, fit %s", got)
	}
	if del.End == protocol.NoEnd {
		t.Fatal("the first batch reached past the last stale row")
	}
	wantLeft(t, raw, "f3 n3")
	del, err = proto(d).DeleteBatch(ctx, protocol.Request{Cutoff: cutoff, After: del.End, Size: 10, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(del.Fileless, del.Rows, del.End == protocol.NoEnd); got != "1 [{5 f3 identifying stl/f3.stl}] true" {
		t.Errorf("second batch: deleted, reached the end: %s", got)
	}
	wantLeft(t, raw, "")
}

// TestPostgresTwoBatchesAtOnce: two runs on one database, the second one
// running whole while the first holds its batch (in its Prepare), never
// wait for each other and delete every stale row exactly once between
// them.
func TestPostgresTwoBatchesAtOnce(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if err := dbtest.GeneratePostgres(raw, dbtest.Spec{Rows: 3000, Stale: 2000, Recent: 20, Files: true, Now: now}); err != nil {
		t.Fatal(err)
	}
	exec(t, raw, `UPDATE `+store.Table+` SET stl_file = '' WHERE id % 3 = 0`)
	cutoff := now.Add(-24 * time.Hour)
	stale := dbtest.Rows(t, raw, "stl_file", stalePredicateAt(cutoff))
	live := slices.DeleteFunc(dbtest.Slugs(t, raw), func(s string) bool { _, ok := stale[s]; return ok })
	a, b := dbtest.OpenPostgres(t, u, false), dbtest.OpenPostgres(t, u, false)

	deleted := map[string]int{}
	count := func(del protocol.Deleted, err error) protocol.Deleted {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range del.Rows {
			deleted[s.Slug]++
		}
		return del
	}
	var fileless int64
	inside := false
	for after := int64(0); after != protocol.NoEnd; {
		del := count(proto(a).DeleteBatch(ctx, protocol.Request{Cutoff: cutoff, After: after, Size: 150, MaxFiles: 200,
			Prepare: func(_ context.Context, files []store.Submission) (protocol.Prepared, error) {
				if !inside {
					inside = true
					// The whole second run, while this batch holds its rows.
					for after := int64(0); after != protocol.NoEnd; {
						del := count(proto(b).DeleteBatch(ctx, protocol.Request{Cutoff: cutoff, After: after, Size: 100, MaxFiles: 100}))
						fileless += del.Fileless
						after = del.End
					}
				}
				return protocol.Prepared{Files: files}, nil
			}}))
		fileless += del.Fileless
		after = del.End
	}
	if !inside {
		t.Fatal("the first run had no batch with a file")
	}
	var withFile int64
	for slug, file := range stale {
		if file == "" {
			continue
		}
		withFile++
		if deleted[slug] != 1 {
			t.Errorf("row %s with a file deleted %d times, want once", slug, deleted[slug])
		}
	}
	if int64(len(deleted)) != withFile || fileless != int64(len(stale))-withFile {
		t.Errorf("deleted %d rows with a file and %d without, want %d and %d", len(deleted), fileless, withFile, int64(len(stale))-withFile)
	}
	wantLeft(t, raw, strings.Join(live, " "))
}

// TestPostgresSkipsLockedRows: a row that the web app holds locked (a
// guest confirming, in a transaction) is skipped: not waited on, not
// deleted, and not reported deleted, so its file stays. The next run
// deletes it if it is still stale.
func TestPostgresSkipsLockedRows(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	cutoff := stale3(t, raw)
	// A wait for the web app would end in this timeout's error.
	d, err := store.Open(ctx, u, store.Options{BusyTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	webapp, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer webapp.Rollback()
	if _, err := webapp.Exec(`SELECT 1 FROM ` + store.Table + ` WHERE slug IN ('s1', 's2') FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := webapp.Exec(`UPDATE ` + store.Table + ` SET status = 'pending' WHERE slug = 's3'`); err != nil {
		t.Fatal(err)
	}
	del, err := deleteWith(d, cutoff, nil)
	if err != nil {
		t.Fatalf("DeleteBatch = %v; want no wait", err)
	}
	if del.Fileless != 0 || len(del.Rows) != 0 {
		t.Errorf("deleted %+v; every stale row is locked", del)
	}
	if err := webapp.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, d, cutoff, 10); fmt.Sprint(got) != "[s1]" {
		t.Errorf("the next run deleted %v, want [s1]", got)
	}
	wantLeft(t, raw, "s3 s4")
}

// TestPostgresWaitsAtMostBusyTimeout: when another session holds the
// table itself (a migration), a run waits for BusyTimeout, then fails
// with an error that IsBusy will know, having deleted nothing.
func TestPostgresWaitsAtMostBusyTimeout(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	cutoff := stale3(t, raw)
	const timeout = 300 * time.Millisecond
	d, err := store.Open(ctx, u, store.Options{BusyTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	migration, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer migration.Rollback()
	if _, err := migration.Exec(`LOCK TABLE ` + store.Table + ` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = deleteWith(d, cutoff, nil)
	took := time.Since(start)
	if !store.IsPostgresBusy(err) || took < timeout || took > timeout+5*time.Second {
		t.Errorf("DeleteBatch = %v after %v; want busy after %v", err, took, timeout)
	}
	migration.Rollback()
	wantLeft(t, raw, "s1 s2 s3 s4")
}

// TestPostgresCommitUnknown: a COMMIT that gets no answer, because the
// connection broke, wraps ErrCommitUnknown; a COMMIT that the server
// refuses does not.
func TestPostgresCommitUnknown(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	stale3(t, raw)
	d := dbtest.OpenPostgres(t, u, false)
	_, err := store.PostgresWriteTx(ctx, d, func(ctx context.Context, tx *sql.Tx) error {
		var pid int
		if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+store.Table+` WHERE slug = 's1'`); err != nil {
			return err
		}
		exec(t, raw, `SELECT pg_terminate_backend($1, 10000)`, pid)
		return nil
	})
	if !errors.Is(err, protocol.ErrCommitUnknown) || strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("commit on a broken connection = %v; want ErrCommitUnknown", err)
	}
	wantLeft(t, raw, "s1 s2 s3 s4") // the server rolled it back, as it happens
	if n, err := d.CountStale(ctx, time.Now()); err != nil || n != 3 {
		t.Errorf("after a broken connection, CountStale = %d, %v; want 3 on a new one", n, err)
	}

	for _, tc := range []struct {
		err     error
		unknown bool
	}{
		{&pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "40001"}, false},
		{&pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "57P01"}, true},
		{io.ErrUnexpectedEOF, true},
		{sql.ErrTxDone, false},
	} {
		if got := errors.Is(store.PostgresCommitError(tc.err), protocol.ErrCommitUnknown); got != tc.unknown {
			t.Errorf("commit error %v: unknown = %v, want %v", tc.err, got, tc.unknown)
		}
	}
}

// deleteWith deletes the first batch of up to 100 stale rows of each
// status at cutoff, with prepare as the caller's Prepare (nil: every file
// may go, no other row is read).
func deleteWith(d store.DB, cutoff time.Time, prepare func([]store.Submission) (protocol.Prepared, error)) (protocol.Deleted, error) {
	req := protocol.Request{Cutoff: cutoff, Size: 100, MaxFiles: 100}
	if prepare != nil {
		req.Prepare = func(_ context.Context, files []store.Submission) (protocol.Prepared, error) {
			return prepare(files)
		}
	}
	return proto(d).DeleteBatch(ctx, req)
}

// isLockNotAvailable reports whether err is PostgreSQL's
// lock_not_available, which NOWAIT raises instead of waiting.
func isLockNotAvailable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "55P03"
}

// stalePredicateAt is the stale predicate at cutoff, as SQL for the tests'
// own queries.
func stalePredicateAt(cutoff time.Time) string {
	c := "'" + cutoff.UTC().Format("2006-01-02 15:04:05.999999") + "+00'"
	return "((status = 'identifying' AND created_at < " + c + ") OR (status = 'rejected' AND closed_at < " + c + "))"
}

// wantLeft fails unless the slugs in raw are want, space-separated, in
// id order.
func wantLeft(t testing.TB, raw *sql.DB, want string) {
	t.Helper()
	if got := strings.Join(dbtest.Slugs(t, raw), " "); got != want {
		t.Errorf("rows left: %s, want %s", got, want)
	}
}

// TestPostgresBatchesAfterUpdatesInPlace: rows that the web app updated in
// place (HOT updates, which leave a row's new version later in the same
// page) come out of the status index's bitmap before rows at lower
// addresses of their page; batches that stop in such a page still
// delete every stale row, each once.
func TestPostgresBatchesAfterUpdatesInPlace(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	// Room in every page for the new versions, and no other plan than the
	// bitmap: this test database only.
	exec(t, raw, `ALTER TABLE `+store.Table+` SET (fillfactor = 40)`)
	name := queryString(t, raw, `SELECT current_database()`)
	exec(t, raw, `ALTER DATABASE `+name+` SET enable_tidscan = off`)
	exec(t, raw, `ALTER DATABASE `+name+` SET enable_seqscan = off`)
	old := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var rows []dbtest.Row
	for i := range 1500 {
		r := dbtest.Row{ID: int64(i + 1), Slug: fmt.Sprintf("r%04d", i+1), Status: "identifying", Created: old}
		if i%5 == 4 {
			r.Status = "done"
		}
		rows = append(rows, r)
	}
	dbtest.InsertPostgres(t, raw, rows...)
	exec(t, raw, `UPDATE `+store.Table+` SET email = 'moved@example.org' WHERE id % 2 = 1`)
	inPlace := queryString(t, raw, `SELECT count(*) FROM `+store.Table+` AS a JOIN `+store.Table+` AS b ON b.id = a.id + 1
WHERE a.id % 2 = 1 AND (a.ctid::text::point)[0] = (b.ctid::text::point)[0] AND a.ctid > b.ctid`)
	if inPlace == "0" {
		t.Fatal("no row was updated in place")
	}
	cutoff := old.Add(24 * time.Hour)
	d := dbtest.OpenPostgres(t, u, false)
	for after, batches := int64(0), 0; after != protocol.NoEnd; batches++ {
		del, err := proto(d).DeleteBatch(ctx, protocol.Request{Cutoff: cutoff, After: after, Size: 1, MaxFiles: 1})
		if err != nil {
			t.Fatal(err)
		}
		after = del.End
		if batches > 100 {
			t.Fatal("no end after 100 batches")
		}
	}
	if got := queryString(t, raw, `SELECT count(*) || ' ' || count(*) FILTER (WHERE status = 'done') FROM `+store.Table); got != "300 300" {
		t.Errorf("rows left, done rows left: %s; want the 300 done rows alone", got)
	}
}

// TestPostgresScansFromTheFirstPage: the tool's session never joins
// another session's scan of the table halfway through
// (synchronize_seqscans): a batch that scans the table reads it from its
// first page, in physical order.
func TestPostgresScansFromTheFirstPage(t *testing.T) {
	u, _ := dbtest.NewPostgres(t)
	d := dbtest.OpenPostgres(t, u, false)
	var v string
	if err := store.PostgresRaw(d).QueryRow(`SHOW synchronize_seqscans`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "off" {
		t.Errorf("synchronize_seqscans = %s, want off", v)
	}
}

// TestPostgresCountsWithoutStatistics: where the server keeps no row
// statistics (track_counts off), a batch still counts the rows without a
// file that it deleted, from the rows it locked.
func TestPostgresCountsWithoutStatistics(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	cutoff := stale3(t, raw)
	exec(t, raw, `ALTER DATABASE `+queryString(t, raw, `SELECT current_database()`)+` SET track_counts = off`)
	d := dbtest.OpenPostgres(t, u, false)
	del, err := deleteWith(d, cutoff, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(del.Fileless, len(del.Rows)); got != "1 2" {
		t.Errorf("deleted without a file, with: %s, want 1 2", got)
	}
	wantLeft(t, raw, "s4")
}
