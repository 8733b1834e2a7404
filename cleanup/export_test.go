package cleanup

import (
	"bytes"
	"time"

	"github.com/spf13/afero"
)

// JournalFiles returns the files that the journal at name lists in batches
// not done, in order, for the tests of package cleanup_test.
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
	_, err = parseJournal(bytes.NewReader(b), func(batch int64, path string) error {
		if p.batches[batch] != nil {
			out = append(out, path)
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

// SetJournalClock makes j tell the time by now.
func SetJournalClock(j *Journal, now func() time.Time) { j.now = now }

// Add is record, for the journal's tests.
func (j *Journal) Add(paths []string) (int64, error) { return j.record(paths) }

// Finish is finishBatches, for the journal's tests.
func (j *Journal) Finish(left []string, batches ...int64) error {
	return j.finishBatches(left, batches...)
}
