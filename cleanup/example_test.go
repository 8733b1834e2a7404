package cleanup_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// exampleNow is the instant the examples judge staleness at.
var exampleNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// exampleInstall builds a small install in memory: a database in the web
// app's schema with four submissions, and their uploads.
func exampleInstall() (*storetest.Memory, afero.Fs) {
	old := exampleNow.Add(-5 * 24 * time.Hour)
	mem, err := storetest.NewMemoryDB(
		storetest.Row{Slug: "never-confirmed", Status: "identifying", Created: old, File: "stl/2026/11/a.stl"},
		storetest.Row{Slug: "confirmed", Status: "pending", Created: old, File: "stl/2026/11/b.stl"},
		storetest.Row{Slug: "turned-down", Status: "rejected", Created: old, Closed: old, File: "stl/2026/11/c.stl"},
		storetest.Row{Slug: "just-arrived", Status: "identifying", Created: exampleNow.Add(-time.Hour)},
	)
	if err != nil {
		log.Fatal(err)
	}
	media := afero.NewMemMapFs()
	if err := media.MkdirAll("stl/2026/11", 0o755); err != nil {
		log.Fatal(err)
	}
	for _, f := range []string{"stl/2026/11/a.stl", "stl/2026/11/b.stl", "stl/2026/11/c.stl"} {
		if err := afero.WriteFile(media, f, []byte("solid x\nendsolid x\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	return mem, media
}

// filesIn lists every file in fsys.
func filesIn(fsys afero.Fs) []string {
	var out []string
	err := afero.Walk(fsys, ".", func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	return out
}

// A dry run in memory: it lists what a real run would delete and changes
// nothing. The database is opened read-only, MEDIA_ROOT through
// fs.ReadOnly.
func ExamplePreview() {
	ctx := context.Background()
	mem, media := exampleInstall()
	defer mem.Close()
	db, err := store.OpenDSN(ctx, mem.DSN, store.Options{ReadOnly: true, BusyTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	rep, err := cleanup.Preview(ctx, db, media, cleanup.Options{TTLHours: 24, Now: exampleNow}, cleanup.Listing{
		Start: func(r *cleanup.Report) error { fmt.Println("stale:", r.Stale); return nil },
		Row:   func(s store.Submission) error { fmt.Println(s.Slug, s.Status, s.File); return nil },
	})
	if err != nil {
		log.Fatal(err)
	}
	slugs, _ := mem.Slugs()
	fmt.Println("deleted:", rep.Deleted, "rows:", len(slugs), "files:", len(filesIn(media)))
	// Output:
	// stale: 2
	// never-confirmed identifying stl/2026/11/a.stl
	// turned-down rejected stl/2026/11/c.stl
	// deleted: 0 rows: 4 files: 3
}

// A real run in memory: the stale rows go, and their files after them;
// every other row keeps its file. The journal lives in memory too. With no
// web app writing (a test), the files go right after their rows' commit
// (FileGrace: cleanup.None); by default they would wait in the journal for
// a minute, in case the web app wrote a row back.
func ExampleRun() {
	ctx := context.Background()
	mem, media := exampleInstall()
	defer mem.Close()
	db, err := store.OpenDSN(ctx, mem.DSN, store.Options{BusyTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	journal, err := cleanup.OpenJournal(afero.NewMemMapFs(), "db.sqlite3.cleanup-stale-pending", cleanup.Media{Name: "media"})
	if err != nil {
		log.Fatal(err)
	}
	defer journal.Close()

	rep, err := cleanup.Run(ctx, db, media, journal, cleanup.Options{TTLHours: 24, Now: exampleNow, FileGrace: cleanup.None})
	if err != nil {
		log.Fatal(err)
	}
	slugs, _ := mem.Slugs()
	fmt.Println("deleted:", rep.Deleted, "failed:", rep.Failed)
	fmt.Println("rows:", slugs)
	fmt.Println("files:", filesIn(media))
	// Output:
	// deleted: 2 failed: 0
	// rows: [confirmed just-arrived]
	// files: [stl/2026/11/b.stl]
}

// brokenDisk is an afero.Fs whose removal of one file fails with an I/O
// error, as a failing disk would. It says what it wraps (fs.Unwrapper), so
// that a fs.RootFs beneath it keeps comparing files by what they are and
// refusing links to directories.
type brokenDisk struct {
	afero.Fs
	bad string
}

func (d brokenDisk) Remove(name string) error {
	if name == d.bad {
		return &os.PathError{Op: "remove", Path: name, Err: syscall.EIO}
	}
	return d.Fs.Remove(name)
}

func (d brokenDisk) Unwrap() afero.Fs { return d.Fs }

// A run with a fault injected by an afero wrapper. The removal fails only
// after its row's deletion committed, so the row is gone and the file
// stays listed in the journal; the run reports it. The next run, once the
// disk works again, removes it first.
func ExampleRun_fault() {
	ctx := context.Background()
	mem, media := exampleInstall()
	defer mem.Close()
	db, err := store.OpenDSN(ctx, mem.DSN, store.Options{BusyTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	state := afero.NewMemMapFs() // where the journal lives, across the two runs
	opt := cleanup.Options{TTLHours: 24, Now: exampleNow, FileGrace: cleanup.None}

	for _, disk := range []afero.Fs{brokenDisk{media, "stl/2026/11/a.stl"}, media} {
		journal, err := cleanup.OpenJournal(state, "db.sqlite3.cleanup-stale-pending", cleanup.Media{Name: "media"})
		if err != nil {
			log.Fatal(err)
		}
		rep, err := cleanup.Run(ctx, db, disk, journal, opt)
		journal.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("pending at start:", rep.Pending, "deleted:", rep.Deleted, "failed:", rep.Failed)
		for _, f := range rep.Failures {
			fmt.Println(" ", f.Slug, f.Path, f.Error)
		}
		fmt.Println("  files:", filesIn(media))
	}
	// Output:
	// pending at start: 0 deleted: 2 failed: 1
	//   never-confirmed stl/2026/11/a.stl remove stl/2026/11/a.stl: input/output error
	//   files: [stl/2026/11/a.stl stl/2026/11/b.stl]
	// pending at start: 1 deleted: 0 failed: 0
	//   files: [stl/2026/11/b.stl]
}
