package cleanup_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// The library as an importer meets it: these tests use the public API
// only, and hold it to what a well-kept Go library does: zero values are
// useful or refused, and nothing panics.

// libraryInstall is an in-memory install at the real clock: a guest who
// uploaded a minute ago, one from two days ago, and a customer.
func libraryInstall(t *testing.T) (*storetest.Memory, store.DB, afero.Fs) {
	t.Helper()
	now := time.Now()
	mem, err := storetest.NewMemoryDB(
		storetest.Row{Slug: "just-arrived", Status: "identifying", Created: now.Add(-time.Minute), File: "stl/new.stl"},
		storetest.Row{Slug: "long-gone", Status: "identifying", Created: now.Add(-48 * time.Hour), File: "stl/old.stl"},
		storetest.Row{Slug: "customer", Status: "pending", Created: now.Add(-48 * time.Hour), File: "stl/customer.stl"},
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	db, err := store.OpenDSN(context.Background(), mem.DSN, store.Options{BusyTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	media := afero.NewMemMapFs()
	fstest.Write(t, media, "stl/new.stl", "stl/old.stl", "stl/customer.stl")
	return mem, db, media
}

func memSlugs(t *testing.T, mem *storetest.Memory) []string {
	t.Helper()
	s, err := mem.Slugs()
	if err != nil {
		t.Fatal(err)
	}
	return sorted(s)
}

// TestZeroNowIsTheClock: Options with no Now judges staleness at the
// clock, as the command line does: the guest from two days ago goes, the
// one from a minute ago stays. (A zero Now used to delete nothing.)
func TestZeroNowIsTheClock(t *testing.T) {
	mem, db, media := libraryInstall(t)
	j, err := cleanup.OpenJournal(afero.NewMemMapFs(), "journal", cleanup.TestMedia)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	rep, err := cleanup.Run(context.Background(), db, media, j, cleanup.Options{TTLHours: 24, FileGrace: cleanup.None})
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "deleted", rep.Deleted, int64(1))
	assertEqual(t, "surviving rows", memSlugs(t, mem), []string{"customer", "just-arrived"})
	assertEqual(t, "surviving files", fstest.Files(t, media), []string{"stl/customer.stl", "stl/new.stl"})
	if age := time.Since(rep.Cutoff.Add(24 * time.Hour)); age < 0 || age > time.Hour {
		t.Errorf("cutoff %v is not 24 h before the clock", rep.Cutoff)
	}
}

// TestZeroFileGraceIsTheDefault: a zero FileGrace is the default grace,
// as every zero in Options is the default: the deleted row's file waits
// in the journal, and the report says so.
func TestZeroFileGraceIsTheDefault(t *testing.T) {
	mem, db, media := libraryInstall(t)
	j, err := cleanup.OpenJournal(afero.NewMemMapFs(), "journal", cleanup.TestMedia)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	rep, err := cleanup.Run(context.Background(), db, media, j, cleanup.Options{TTLHours: 24})
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving rows", memSlugs(t, mem), []string{"customer", "just-arrived"})
	assertEqual(t, "files", fstest.Files(t, media), []string{"stl/customer.stl", "stl/new.stl", "stl/old.stl"})
	if rep.Waiting != 1 || time.Until(rep.NextDue) > cleanup.DefaultFileGrace || rep.NextDue.Before(time.Now()) {
		t.Errorf("waiting %d, next due %v; want 1, within the default grace", rep.Waiting, rep.NextDue)
	}
}

// TestBadOptionsAreRefused: a negative TTL (which deleted a guest from a
// minute ago), a share over 1, a negative duration other than None, and a
// missing database, media or journal are ErrOptions, and nothing changes.
// A zero Journal, which OpenJournal did not make, is refused too, and its
// methods fail instead of panicking.
func TestBadOptionsAreRefused(t *testing.T) {
	mem, db, media := libraryInstall(t)
	j, err := cleanup.OpenJournal(afero.NewMemMapFs(), "journal", cleanup.TestMedia)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ok := cleanup.Options{TTLHours: 24, FileGrace: cleanup.None}
	for name, call := range map[string]func() (*cleanup.Report, error){
		"negative TTL": func() (*cleanup.Report, error) {
			return cleanup.Run(context.Background(), db, media, j, cleanup.Options{TTLHours: -1, FileGrace: cleanup.None})
		},
		"share over 1": func() (*cleanup.Report, error) {
			return cleanup.Run(context.Background(), db, media, j, cleanup.Options{TTLHours: 24, LockShare: 2})
		},
		"negative pause": func() (*cleanup.Report, error) {
			return cleanup.Run(context.Background(), db, media, j, cleanup.Options{TTLHours: 24, Pause: -time.Second})
		},
		"nil database": func() (*cleanup.Report, error) { return cleanup.Run(context.Background(), nil, media, j, ok) },
		"nil media":    func() (*cleanup.Report, error) { return cleanup.Run(context.Background(), db, nil, j, ok) },
		"nil journal":  func() (*cleanup.Report, error) { return cleanup.Run(context.Background(), db, media, nil, ok) },
		"zero journal": func() (*cleanup.Report, error) {
			return cleanup.Run(context.Background(), db, media, &cleanup.Journal{}, ok)
		},
		"preview, negative TTL": func() (*cleanup.Report, error) {
			return cleanup.Preview(context.Background(), db, media, cleanup.Options{TTLHours: -1}, cleanup.Listing{})
		},
		"preview, nil media": func() (*cleanup.Report, error) {
			return cleanup.Preview(context.Background(), db, nil, ok, cleanup.Listing{})
		},
		"preview, nil database": func() (*cleanup.Report, error) {
			return cleanup.Preview(context.Background(), nil, media, ok, cleanup.Listing{})
		},
	} {
		rep, err := call()
		if !errors.Is(err, cleanup.ErrOptions) || rep == nil {
			t.Errorf("%s: %v, report %v; want ErrOptions and a report", name, err, rep)
		}
	}
	assertEqual(t, "surviving rows", memSlugs(t, mem), []string{"customer", "just-arrived", "long-gone"})
	assertEqual(t, "surviving files", len(fstest.Files(t, media)), 3)

	var zero cleanup.Journal
	if _, err := zero.Add([]string{"x"}); !errors.Is(err, cleanup.ErrJournal) {
		t.Errorf("Add on a zero Journal: %v", err)
	}
	if err := zero.Close(); !errors.Is(err, cleanup.ErrJournal) {
		t.Errorf("Close on a zero Journal: %v", err)
	}
	_, err = sweep(t, db, media, cleanup.SweepOptions{Grace: -time.Hour})
	if !errors.Is(err, cleanup.ErrOptions) {
		t.Errorf("Sweep with a negative grace: %v", err)
	}
}

// TestPreviewWithAZeroListing: a dry run with no callbacks counts, and
// panics on nothing.
func TestPreviewWithAZeroListing(t *testing.T) {
	_, db, media := libraryInstall(t)
	rep, err := cleanup.Preview(context.Background(), db, media, cleanup.Options{TTLHours: 24}, cleanup.Listing{})
	if err != nil || rep.Stale != 1 || rep.Deleted != 0 {
		t.Errorf("Preview with a zero Listing: %+v, %v; want 1 stale", rep, err)
	}
	if rep, err := cleanup.Preview(context.Background(), db, media, cleanup.Options{TTLHours: 24}, cleanup.Listing{
		Start: func(*cleanup.Report) error { return nil },
	}); err != nil || rep.Stale != 1 {
		t.Errorf("Preview with Start alone: %+v, %v", rep, err)
	}
}
