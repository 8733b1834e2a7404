package cleanup

import (
	"bytes"
	"context"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

// JournalFiles returns the files that the journal at name lists and has
// not finished, in order, for the tests of package cleanup_test.
func JournalFiles(fsys afero.Fs, name string) ([]string, error) {
	b, err := afero.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	p, err := parseJournal(bytes.NewReader(b), nil)
	if err != nil {
		return nil, err
	}
	var out []string
	_, err = parseJournal(bytes.NewReader(b), func(batch, index int64, e entry) error {
		if b := p.batches[batch]; b != nil && index >= b.skip {
			out = append(out, e.path)
		}
		return nil
	})
	return out, err
}

// SetHashLimit lowers how many hashes a run holds in memory before it
// spills them to disk.
func SetHashLimit(o *Options, n int) { o.hashLimit = n }

// LeftBatches returns the batches that earlier runs left in j, not done.
func LeftBatches(j *Journal) []int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []int64
	for seq, b := range j.open {
		if b.left {
			out = append(out, seq)
		}
	}
	return out
}

// WallClock is a journal clock that tells the time by now alone, as a
// system without a boot clock does.
func WallClock(now func() time.Time) func() instant {
	return func() instant { return instant{wall: now().Round(0)} }
}

// OpenJournalAt opens a journal whose clock is now alone.
func OpenJournalAt(fsys afero.Fs, name string, media Media, now func() time.Time) (*Journal, error) {
	return openJournal(fsys, name, media, WallClock(now))
}

// SetJournalClock makes j tell the time by now alone.
func SetJournalClock(j *Journal, now func() time.Time) { j.clock = WallClock(now) }

// Add records paths as a batch, each file with the identity that
// fs.Inspect gives it in media, for the journal's tests.
func (j *Journal) Add(paths []string) (int64, error) {
	entries := make([]entry, len(paths))
	for i, p := range paths {
		entries[i] = entry{path: p, id: fs.Missing}
	}
	return j.record(entries)
}

// Finish marks batches done, listing left in a new batch first, gone when
// the first of batches went, for the journal's tests.
func (j *Journal) Finish(left []string, batches ...int64) error {
	entries := make([]entry, len(left))
	for i, p := range left {
		entries[i] = entry{path: p, id: fs.Missing}
	}
	through := map[int64]int64{}
	gone := j.clock()
	for _, b := range batches {
		through[b] = 1 << 62
		if g := j.goneAt(b); g.wall.Before(gone.wall) {
			gone = g
		}
	}
	return j.settle(entries, gone, through)
}

// TestMedia is the media root that the tests' journals name.
var TestMedia = Media{Name: "media"}

// ReadJournalAt is ReadJournal at now, on the wall clock alone.
func ReadJournalAt(fsys afero.Fs, name string, media *Media, now time.Time, grace time.Duration) (JournalSummary, error) {
	return readJournal(fsys, name, media, grace, WallClock(func() time.Time { return now }))
}

// SummaryAt is j.Summary at now, on the wall clock alone.
func SummaryAt(j *Journal, now time.Time, grace time.Duration) JournalSummary {
	SetJournalClock(j, func() time.Time { return now })
	return j.Summary(grace)
}

// Gone notes that batch's rows went now, as a run does after its commit.
func (j *Journal) Gone(batch int64) error { return j.markGone(batch) }

// AddFiles records paths as a batch, each with the identity that
// fs.Inspect gives it in media now.
func (j *Journal) AddFiles(media afero.Fs, paths ...string) (int64, error) {
	entries := make([]entry, len(paths))
	for i, in := range fs.Inspect(context.Background(), media, paths) {
		entries[i] = entry{path: paths[i], id: in.ID}
	}
	return j.record(entries)
}
