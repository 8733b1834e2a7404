package cleanup_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
	"github.com/cleanup-stale/cleanup-stale/store/storetest"
)

// crashedAt is when the interrupted run of these tests wrote its batch.
var crashedAt = refNow.Add(-time.Minute)

// leftJournal writes the journal that a run of version 1 killed after
// writing one batch of files, at at, leaves behind.
func leftJournal(t *testing.T, jfs afero.Fs, name string, at time.Time, files ...string) {
	t.Helper()
	text := "cleanup-stale pending removals v1 media-root=\"media\"\nbatch 9 " + at.Format(time.RFC3339Nano) + "\n"
	for _, f := range files {
		text += "file \"" + f + "\"\n"
	}
	if err := afero.WriteFile(jfs, name, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A crashed run listed five files. gone-1 lost its row (the deletion
// committed), gone-2 too and its file is already removed; rolled-back
// kept its row (that deletion never committed, and its guest confirmed
// since); reused lost its row, and a new upload took the free name after
// the crash; adopted lost its row, and a row added since names the file.
// Nothing is stale now.
var (
	replayFiles = []string{"stl/adopted.stl", "stl/gone-1.stl", "stl/gone-2.stl", "stl/reused.stl", "stl/rolled-back.stl"}
	replayRows  = []dbtest.Row{
		{Slug: "rolled-back", Status: "pending", Created: refNow.Add(-48 * time.Hour), File: "stl/rolled-back.stl"},
		{Slug: "new-upload", Status: "identifying", Created: refNow, File: "stl/reused.stl"},
		{Slug: "adopter", Status: "done", Created: refNow.Add(-time.Hour), Closed: refNow, File: "stl/adopted.stl"},
		{Slug: "bystander", Status: "done", Created: refNow.Add(-time.Hour), Closed: refNow, File: "stl/bystander.stl"},
	}
	replaySurvivors = []string{"stl/adopted.stl", "stl/bystander.stl", "stl/reused.stl", "stl/rolled-back.stl"}
)

// writeReplayMedia writes the files of the crashed run's install: every
// listed file but gone-2, and reused written again after the crash.
func writeReplayMedia(t *testing.T, media afero.Fs) {
	t.Helper()
	fstest.Write(t, media, "stl/adopted.stl", "stl/gone-1.stl", "stl/reused.stl", "stl/rolled-back.stl", "stl/bystander.stl")
	for _, f := range []string{"stl/adopted.stl", "stl/gone-1.stl", "stl/rolled-back.stl"} {
		if err := media.Chtimes(f, crashedAt.Add(-time.Hour), crashedAt.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := media.Chtimes("stl/reused.stl", crashedAt.Add(time.Second), crashedAt.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
}

// TestReplayInMemory: the next run finishes the crashed run's journal. It
// removes the files that no row references (gone-1; gone-2 is already
// missing, which is fine), keeps the file of the row whose deletion was
// rolled back and the file a row has adopted since, keeps the file
// written again after the crash, reports what it finished, and leaves no
// journal.
func TestReplayInMemory(t *testing.T) {
	dsn := dbtest.NewMemory(t)
	dbtest.Insert(t, dbtest.DB(t, dsn), replayRows...)
	media, jfs := afero.NewMemMapFs(), afero.NewMemMapFs()
	writeReplayMedia(t, media)
	leftJournal(t, jfs, journalName, crashedAt, replayFiles...)

	rep, err := runJournaled(t, dbtest.Open(t, dsn, false), media, jfs, fast(24, refNow))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving files", fstest.Files(t, media), replaySurvivors)
	assertEqual(t, "surviving rows", remaining(t, dsn), []string{"adopter", "bystander", "new-upload", "rolled-back"})
	assertEqual(t, "pending, deleted, failed", []int64{rep.Pending, rep.Deleted, rep.Failed}, []int64{5, 0, 0})
	if exists, _ := afero.Exists(jfs, journalName); exists {
		t.Error("the journal is still there")
	}
}

// TestReplayOnDisk is TestReplayInMemory on a real disk: a SQLite file, a
// media directory behind os.Root, the journal next to the database.
func TestReplayOnDisk(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "db.sqlite3")
	raw, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(storetest.Schema()); err != nil {
		t.Fatal(err)
	}
	dbtest.Insert(t, raw, replayRows...)
	if err := os.Mkdir(filepath.Join(dir, "media"), 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := fs.NewRootFs(filepath.Join(dir, "media"))
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	writeReplayMedia(t, afero.NewBasePathFs(afero.NewOsFs(), filepath.Join(dir, "media")))
	jname := dbPath + ".cleanup-stale-pending"
	// A journal of version 1 has no identities: its entries take only a
	// file born before their batch, and a disk's files were born just now.
	leftJournal(t, afero.NewOsFs(), jname, time.Now().Add(time.Minute), replayFiles...)

	db, err := store.Open(context.Background(), dbPath, store.Options{BusyTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	j, err := cleanup.OpenJournal(afero.NewOsFs(), jname, cleanup.TestMedia)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := cleanup.Run(context.Background(), db, root, j, fast(24, refNow))
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving files", fstest.Files(t, afero.NewBasePathFs(afero.NewOsFs(), filepath.Join(dir, "media"))), replaySurvivors)
	assertEqual(t, "surviving rows", sorted(dbtest.Slugs(t, raw)), []string{"adopter", "bystander", "new-upload", "rolled-back"})
	assertEqual(t, "pending", rep.Pending, int64(5))
	if _, err := os.Stat(jname); !os.IsNotExist(err) {
		t.Errorf("the journal is still there: %v", err)
	}
}

// fullDiskFs is a file system whose files refuse every write with ENOSPC,
// as a full disk does.
type fullDiskFs struct{ afero.Fs }

func (f fullDiskFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	file, err := f.Fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return fullDiskFile{file}, nil
}

type fullDiskFile struct{ afero.File }

func (fullDiskFile) WriteAt([]byte, int64) (int, error) { return 0, syscall.ENOSPC }
func (fullDiskFile) Write([]byte) (int, error)          { return 0, syscall.ENOSPC }

// TestJournalFullDisk: when the journal cannot be written, no row with a
// file is deleted and no file removed: the run fails (exit 1) before its
// first transaction with a file. Rows without a file need no journal.
func TestJournalFullDisk(t *testing.T) {
	old := refNow.Add(-48 * time.Hour)
	dsn := dbtest.NewMemory(t)
	dbtest.Insert(t, dbtest.DB(t, dsn),
		dbtest.Row{Slug: "stale-with-file", Status: "identifying", Created: old, File: "stl/a.stl"},
		dbtest.Row{Slug: "stale-too", Status: "rejected", Created: old, Closed: old, File: "stl/b.stl"},
	)
	media := afero.NewMemMapFs()
	fstest.Write(t, media, "stl/a.stl", "stl/b.stl")
	j, err := cleanup.OpenJournal(fullDiskFs{afero.NewMemMapFs()}, journalName, cleanup.TestMedia)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cleanup.Run(context.Background(), dbtest.Open(t, dsn, false), media, j, fast(24, refNow))
	j.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("run: %v, want ENOSPC", err)
	}
	assertEqual(t, "surviving rows", remaining(t, dsn), []string{"stale-too", "stale-with-file"})
	assertEqual(t, "surviving files", fstest.Files(t, media), []string{"stl/a.stl", "stl/b.stl"})
}
