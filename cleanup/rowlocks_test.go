package cleanup

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// TestBatchSizeByLocking: where a transaction locks only its own rows
// (PostgreSQL), batches aim at rowLocksTxScale times TxTarget; where it
// locks the whole database (SQLite), at TxTarget. And a batch never asks
// for more rows than the last Fit, which a store reports when a batch
// would lock more rows than it can hold for their files.
func TestBatchSizeByLocking(t *testing.T) {
	for _, tc := range []struct {
		whole bool
		fits  []int // the Fit of each batch, 0 for none
		want  string
	}{
		// 1000 rows of each status took 100 ms: twice TxTarget on SQLite,
		// a fifth of ten times it on PostgreSQL (fourfold at most).
		{true, []int{0, 0, 0}, "[1000 500 250]"},
		{false, []int{0, 0, 0}, "[1000 4000 16000]"},
		{false, []int{300, 0, 700, 0}, "[1000 300 1200 700]"},
		{true, []int{300, 0, 0}, "[1000 300 150]"},
	} {
		db := &sizingDB{DB: face(t), whole: tc.whole, fits: tc.fits, took: 100 * time.Millisecond}
		j, err := OpenJournal(afero.NewMemMapFs(), "journal", TestMedia)
		if err != nil {
			t.Fatal(err)
		}
		opt := Options{TTLHours: 24, Now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
			BatchSize: 1000, TxTarget: 50 * time.Millisecond}
		if _, err := Run(context.Background(), db, afero.NewMemMapFs(), j, opt); err != nil {
			t.Fatal(err)
		}
		j.Close()
		if got := fmt.Sprint(db.sizes); got != tc.want {
			t.Errorf("whole database %v, fits %v: sizes %s, want %s", tc.whole, tc.fits, got, tc.want)
		}
	}
}

// sizingDB is a database whose batches each take took, report the next
// of fits, and delete one row without a file; it records the Size of
// each request. An empty database in memory gives it the rest of
// store.DB's face.
type sizingDB struct {
	store.DB
	whole bool
	fits  []int
	took  time.Duration
	sizes []int
}

// ReadAhead reads nothing: the fake's batches are made as DeleteBatch is
// called.
func (d *sizingDB) ReadAhead(context.Context, protocol.Request) {}

// face is an empty database for a fake's store.DB.
func face(t *testing.T) store.DB {
	t.Helper()
	db, _ := memoryStore(t)
	return db
}

func (d *sizingDB) LocksWholeDatabase() bool { return d.whole }

// Named finds no row: the fakes' rows are all deleted.
func (d *sizingDB) Named(context.Context, protocol.NameQuery, func(string) error) error { return nil }

func (d *sizingDB) DeleteBatch(_ context.Context, req protocol.Request) (protocol.Deleted, error) {
	i := len(d.sizes)
	d.sizes = append(d.sizes, req.Size)
	del := protocol.Deleted{Fileless: 1, LockHeld: d.took, Fit: d.fits[i], End: int64(i + 1)}
	if i == len(d.fits)-1 {
		del.End = protocol.NoEnd
	}
	return del, nil
}

// TestRemovalOverlapsRowLockTransactions: where a transaction locks only
// its own rows (PostgreSQL), a batch's files go while the next batch's
// transaction runs; where it locks the whole database (SQLite), they are
// gone before it begins. Each batch holds maxFilesPerBatch files, which
// the run takes through the gate as one group. The first batch's first
// removal waits here for the second batch's transaction, which a run on
// SQLite never starts before it (the wait gives up after a minute, and
// the order shows it).
func TestRemovalOverlapsRowLockTransactions(t *testing.T) {
	for _, whole := range []bool{false, true} {
		var mu sync.Mutex
		var events []string
		note := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
		release := make(chan struct{})
		db := &filesDB{sizingDB: sizingDB{DB: face(t)}, whole: whole, note: note, release: release}
		media := &blockingFs{Fs: afero.NewMemMapFs(), release: release, note: note}
		for b := range 2 {
			var batch []string
			for i := range maxFilesPerBatch {
				batch = append(batch, fmt.Sprintf("b%d/%04d.stl", b+1, i))
			}
			db.files = append(db.files, batch)
			media.watch = append(media.watch, batch[0])
			for _, f := range batch {
				if err := afero.WriteFile(media.Fs, f, []byte("solid"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		media.block = media.watch[0]
		if whole {
			close(release)
		}
		j, err := OpenJournal(afero.NewMemMapFs(), "journal", TestMedia)
		if err != nil {
			t.Fatal(err)
		}
		opt := Options{TTLHours: 24, Now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), BatchSize: 1000, Workers: 1, FileGrace: None}
		rep, err := Run(context.Background(), db, media, j, opt)
		j.Close()
		if err != nil || rep.Deleted != 2*maxFilesPerBatch || len(rep.Failures) != 0 {
			t.Fatalf("whole database %v: Run = %+v, %v", whole, rep, err)
		}
		want := "[batch 1 removed b1/0000.stl batch 2 removed b2/0000.stl]"
		if !whole {
			want = "[batch 1 batch 2 removed b1/0000.stl removed b2/0000.stl]"
		}
		if got := fmt.Sprint(events); got != want {
			t.Errorf("whole database %v: %s, want %s", whole, got, want)
		}
	}
}

// filesDB is a database whose stale rows are one batch per element of
// files, each handed to Prepare and deleted as Prepare lets it go. The
// second batch lets the first batch's removal go on (release).
type filesDB struct {
	sizingDB
	whole   bool
	files   [][]string
	batches int
	note    func(string)
	release chan struct{}
}

func (d *filesDB) LocksWholeDatabase() bool { return d.whole }

func (d *filesDB) DeleteBatch(ctx context.Context, req protocol.Request) (protocol.Deleted, error) {
	d.batches++
	i := d.batches
	d.note(fmt.Sprintf("batch %d", i))
	if i == 2 && !d.whole {
		close(d.release)
	}
	var rows []store.Submission
	for k, f := range d.files[i-1] {
		rows = append(rows, store.Submission{ID: int64(i*100000 + k), Slug: fmt.Sprint("s", i, "-", k), Status: "identifying", File: f})
	}
	p, err := req.Prepare(ctx, rows)
	if err != nil {
		return protocol.Deleted{}, err
	}
	del := protocol.Deleted{Rows: p.Files, End: int64(i)}
	if i == len(d.files) {
		del.End = protocol.NoEnd
	}
	return del, nil
}

// blockingFs holds the removal of block until release is closed, for a
// minute at most, and notes each removal of a file in watch once done.
type blockingFs struct {
	afero.Fs
	block   string
	watch   []string // the removals that are noted
	release chan struct{}
	note    func(string)
}

func (f *blockingFs) Remove(name string) error {
	if name == f.block {
		select {
		case <-f.release:
		case <-time.After(time.Minute):
		}
	}
	err := f.Fs.Remove(name)
	if slices.Contains(f.watch, name) {
		f.note("removed " + name)
	}
	return err
}
