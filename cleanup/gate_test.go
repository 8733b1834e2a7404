package cleanup_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// clockAt is a clock that a test moves.
type clockAt struct{ t time.Time }

func (c *clockAt) now() time.Time { return c.t }

// runAt runs the cleanup at the clock's now, with its journal (in jfs)
// on the same clock, nothing stale, and grace.
func runAt(t *testing.T, c *clockAt, dsn string, media, jfs afero.Fs, grace time.Duration) *cleanup.Report {
	t.Helper()
	j, err := cleanup.OpenJournalAt(jfs, journalName, cleanup.TestMedia, c.now)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	rep, err := cleanup.Run(context.Background(), dbtest.Open(t, dsn, false), media, j,
		cleanup.Options{TTLHours: 24, Now: refNow, Pause: cleanup.None, FileGrace: grace})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// journalAt opens the journal in jfs at the clock's now, lets fn write
// to it, and closes it.
func journalAt(t *testing.T, c *clockAt, jfs afero.Fs, fn func(j *cleanup.Journal)) {
	t.Helper()
	j, err := cleanup.OpenJournalAt(jfs, journalName, cleanup.TestMedia, c.now)
	if err != nil {
		t.Fatal(err)
	}
	fn(j)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLatestDeletionCounts: a row is deleted, written back by a slow view,
// and deleted again 3 s later; the grace is 6 s. Its file is listed in two
// batches. 7 s after the first deletion, only 4 s after the latest, the
// file stays: a write-back may still come. Once the latest deletion is a
// grace old, it goes.
func TestLatestDeletionCounts(t *testing.T) {
	dsn := dbtest.NewMemory(t)
	media, jfs := afero.NewMemMapFs(), afero.NewMemMapFs()
	fstest.Write(t, media, "stl/model.stl")
	c := &clockAt{t: time.Now()}
	record := func() {
		journalAt(t, c, jfs, func(j *cleanup.Journal) {
			seq, err := j.AddFiles(media, "stl/model.stl")
			if err == nil {
				err = j.Gone(seq)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	record()
	c.t = c.t.Add(3 * time.Second)
	record()
	c.t = c.t.Add(4 * time.Second)
	rep := runAt(t, c, dsn, media, jfs, 6*time.Second)
	if got := fstest.Files(t, media); !slices.Equal(got, []string{"stl/model.stl"}) || rep.Waiting != 1 {
		t.Fatalf("7 s after the first deletion, 4 s after the latest: files %q, %+v; want the file kept, waiting", got, rep)
	}
	c.t = c.t.Add(2 * time.Second)
	rep = runAt(t, c, dsn, media, jfs, 6*time.Second)
	if got := fstest.Files(t, media); len(got) != 0 || rep.Waiting != 0 {
		t.Errorf("a grace after the latest deletion: files %q, %+v; want it gone", got, rep)
	}
}

// TestEmptyMediaRootRefused: files are due, and MEDIA_ROOT holds nothing
// at all, as an unmounted disk's mount point does. The run refuses
// (fs.ErrNoMediaRoot) before it finishes anything: the journal keeps them.
func TestEmptyMediaRootRefused(t *testing.T) {
	dsn := dbtest.NewMemory(t)
	media, jfs := afero.NewMemMapFs(), afero.NewMemMapFs()
	fstest.Write(t, media, "stl/a.stl", "stl/b.stl")
	c := &clockAt{t: time.Now()}
	journalAt(t, c, jfs, func(j *cleanup.Journal) {
		if seq, err := j.AddFiles(media, "stl/a.stl", "stl/b.stl"); err != nil || j.Gone(seq) != nil {
			t.Fatal(err)
		}
	})
	before := journalText(t, jfs, journalName)
	empty := afero.NewMemMapFs()
	j, err := cleanup.OpenJournalAt(jfs, journalName, cleanup.TestMedia, c.now)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cleanup.Run(context.Background(), dbtest.Open(t, dsn, false), empty, j, fast(24, refNow))
	j.Close()
	if !errors.Is(err, fs.ErrNoMediaRoot) {
		t.Errorf("Run on an empty MEDIA_ROOT with files due = %v, want ErrNoMediaRoot", err)
	}
	if after := journalText(t, jfs, journalName); after != before {
		t.Errorf("the journal changed:\n%s\n%s", before, after)
	}
}

// TestEveryChunkAsksTheRowsAgain: a due phase of more than one chunk asks
// the database before each chunk: a row committed while the first chunk
// is removed, naming a file of the second (django-storages writes a key
// again in place, and the web app commits a row for it), keeps it.
func TestEveryChunkAsksTheRowsAgain(t *testing.T) {
	dsn := dbtest.NewMemory(t)
	mem, jfs := afero.NewMemMapFs(), afero.NewMemMapFs()
	const n = 5001 // one more than a chunk
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("stl/f%05d.stl", i))
	}
	fstest.Write(t, mem, names...)
	c := &clockAt{t: time.Now()}
	journalAt(t, c, jfs, func(j *cleanup.Journal) {
		if seq, err := j.AddFiles(mem, names...); err != nil || j.Gone(seq) != nil {
			t.Fatal(err)
		}
	})
	last := names[n-1]
	media := &hookFs{Fs: mem, at: names[0], hook: func() {
		dbtest.Insert(t, dbtest.DB(t, dsn), dbtest.Row{Slug: "rewritten", Status: "pending", Created: refNow, File: last})
	}}
	c.t = c.t.Add(time.Second)
	rep := runAt(t, c, dsn, media, jfs, time.Millisecond)
	assertEqual(t, "files left: only the one that a row committed during the first chunk names", fstest.Files(t, mem), []string{last})
	assertEqual(t, "pending", rep.Pending, int64(n))
}

// hookFs calls hook once, when the file at at is removed.
type hookFs struct {
	afero.Fs
	at   string
	hook func()
	done bool
}

func (h *hookFs) Remove(name string) error {
	if name == h.at && !h.done {
		h.done = true
		h.hook()
	}
	return h.Fs.Remove(name)
}
