package cleanup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"
)

// The pending-removal journal closes the gap between a row's deletion and
// its file's removal. A file is removed only after its row's deletion has
// committed, and outside the database's write lock, so a crash in between
// would leave a file whose row is gone. Before a batch's write
// transaction, the run writes the batch's candidate files here and fsyncs;
// after it has removed them, it marks the batch done. A run that finds
// batches not done finishes them first: it removes each listed file that
// no row references now.
//
// The file is text, a record per line, so that a person can read it:
//
//	cleanup-stale pending removals v1 media-root="/srv/printdesk/media"
//	batch 7 2026-11-26T20:05:09.123456Z
//	file "stl/2026/11/s7-0000042.stl"
//	file "stl/2026/11/s7-0000043.stl"
//	done 7
//
// A torn last line (power lost in the middle of an append) is ignored:
// its batch never reached its write transaction, which starts only after
// the fsync. Every run ends with an empty journal, unless a file could not
// be removed: such files stay listed, and the next run retries them. A run
// that ends with nothing listed removes the file.

// journalMagic starts the first line of every journal.
const journalMagic = "cleanup-stale pending removals v1"

// Journal errors. ErrJournal means the journal cannot be used at all: the
// command line maps it to exit status 2, before anything is deleted.
var (
	ErrJournal = errors.New("pending-removal journal unusable")
	// ErrJournalBusy means another run holds the journal: it is working
	// on the same database right now.
	ErrJournalBusy = errors.New("another cleanup-stale run is active on this database")
)

// Entry is a file listed in a batch that is not done.
type Entry struct {
	Batch int64
	At    time.Time // when the batch was written
	Path  string
}

// Journal is an open pending-removal journal, locked for one run.
type Journal struct {
	fsys  afero.Fs
	name  string
	media string
	now   func() time.Time

	mu     sync.Mutex
	f      afero.File
	unlock func()
	size   int64              // bytes of whole records; appends go here
	next   int64              // the next batch's number
	open   map[int64][]string // batches written and not done, with their files
	at     map[int64]time.Time
	left   []Entry // what an interrupted run left, as found at open
}

// OpenJournal opens (creating it, mode 0600) and locks the journal at name
// in fsys, for a run that removes files under media. It reads what an
// interrupted run left (Left) and drops a torn last line.
//
// It fails with ErrJournal when the file cannot be created, read, locked
// or written, when it is not a journal, or when it lists files left under
// another media root; with ErrJournalBusy when another run holds it.
func OpenJournal(fsys afero.Fs, name, media string) (*Journal, error) {
	j := &Journal{fsys: fsys, name: name, media: media, now: time.Now,
		next: 1, open: map[int64][]string{}, at: map[int64]time.Time{}}
	if err := j.openLocked(); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.NewSectionReader(j.f, 0, 1<<62))
	if err != nil {
		j.release()
		return nil, fmt.Errorf("%w: read %s: %v", ErrJournal, name, err)
	}
	p, err := parseJournal(b)
	if err != nil {
		j.release()
		return nil, fmt.Errorf("%w: %s: %v", ErrJournal, name, err)
	}
	j.left, j.next = p.left, p.maxBatch+1
	switch {
	case len(j.left) == 0:
		j.size = 0 // nothing left to do: start afresh
	case p.media != media:
		j.release()
		return nil, fmt.Errorf("%w: %s lists %d file(s) to remove under media root %q, but this run's is %q; "+
			"run once with that media root to finish them", ErrJournal, name, len(j.left), p.media, media)
	default:
		j.size = p.whole
		for _, e := range j.left {
			j.open[e.Batch] = append(j.open[e.Batch], e.Path)
			j.at[e.Batch] = e.At
		}
	}
	if int64(len(b)) != j.size {
		if err := j.f.Truncate(j.size); err != nil {
			j.release()
			return nil, fmt.Errorf("%w: %s: %v", ErrJournal, name, err)
		}
	}
	return j, nil
}

// openLocked opens the file and takes its lock, so that two runs never
// write one journal at once. A journal is replaced by rename when it is
// compacted, so after locking it checks that the file it locked is still
// the one at name, and tries again if not.
func (j *Journal) openLocked() error {
	for {
		_, statErr := j.fsys.Stat(j.name)
		f, err := j.fsys.OpenFile(j.name, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrJournal, err)
		}
		if errors.Is(statErr, iofs.ErrNotExist) {
			if err := syncDir(j.fsys, filepath.Dir(j.name)); err != nil {
				f.Close()
				return fmt.Errorf("%w: %v", ErrJournal, err)
			}
		}
		unlock, err := lockFile(j.fsys, j.name, f)
		if err != nil {
			f.Close()
			return err
		}
		if same, err := sameFile(j.fsys, f, j.name); err != nil || !same {
			unlock()
			f.Close()
			if err != nil {
				return fmt.Errorf("%w: %v", ErrJournal, err)
			}
			continue
		}
		j.f, j.unlock = f, unlock
		return nil
	}
}

// Left returns the files that an interrupted run listed and did not mark
// done.
func (j *Journal) Left() []Entry { return j.left }

// Add writes a batch of files that are about to lose their rows, and
// fsyncs, before the batch's write transaction begins. It returns the
// batch's number, for Finish. On error nothing is listed and nothing may
// be deleted.
func (j *Journal) Add(paths []string) (int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.add(paths)
}

func (j *Journal) add(paths []string) (int64, error) {
	seq, at := j.next, j.now().UTC()
	var buf bytes.Buffer
	if j.size == 0 {
		fmt.Fprintf(&buf, "%s media-root=%s\n", journalMagic, strconv.Quote(j.media))
	}
	fmt.Fprintf(&buf, "batch %d %s\n", seq, at.Format(time.RFC3339Nano))
	for _, p := range paths {
		fmt.Fprintf(&buf, "file %s\n", strconv.Quote(p))
	}
	if err := j.append(buf.Bytes(), true); err != nil {
		return 0, err
	}
	j.next++
	j.open[seq] = paths
	j.at[seq] = at
	return seq, nil
}

// Finish marks batches done once their files are removed. failed lists
// the files that could not be removed: they are written into a new batch
// first, so that the next run retries them.
func (j *Journal) Finish(failed []string, batches ...int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(failed) > 0 {
		if _, err := j.add(failed); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	for _, seq := range batches {
		fmt.Fprintf(&buf, "done %d\n", seq)
	}
	// Not fsynced: a lost "done" only makes the next run check files that
	// are already gone.
	if err := j.append(buf.Bytes(), false); err != nil {
		return err
	}
	for _, seq := range batches {
		delete(j.open, seq)
		delete(j.at, seq)
	}
	return nil
}

// append writes b at the end of the whole records. A write that fails
// (a full disk) is cut off again, so that the file stays whole records.
func (j *Journal) append(b []byte, sync bool) error {
	if _, err := j.f.WriteAt(b, j.size); err != nil {
		j.f.Truncate(j.size)
		return fmt.Errorf("write %s: %w", j.name, err)
	}
	if sync {
		if err := j.f.Sync(); err != nil {
			j.f.Truncate(j.size)
			return fmt.Errorf("fsync %s: %w", j.name, err)
		}
	}
	j.size += int64(len(b))
	return nil
}

// Pending counts the files in batches that are not done.
func (j *Journal) Pending() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, paths := range j.open {
		n += len(paths)
	}
	return n
}

// Close ends the run's use of the journal and unlocks it. When every
// batch is done, the journal is removed: between runs there is none.
// Otherwise it is rewritten with only the batches not done (by a rename,
// so that a crash leaves either the old journal or the new one).
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	defer j.release()
	if len(j.open) == 0 {
		// Removed while still locked: a run that opened it meanwhile finds,
		// once it has the lock, that it is no longer the file at j.name.
		if err := j.fsys.Remove(j.name); err != nil {
			return fmt.Errorf("remove %s: %w", j.name, err)
		}
		return nil
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s media-root=%s\n", journalMagic, strconv.Quote(j.media))
	for seq := int64(1); seq < j.next; seq++ {
		paths, ok := j.open[seq]
		if !ok {
			continue
		}
		fmt.Fprintf(&buf, "batch %d %s\n", seq, j.at[seq].Format(time.RFC3339Nano))
		for _, p := range paths {
			fmt.Fprintf(&buf, "file %s\n", strconv.Quote(p))
		}
	}
	if int64(buf.Len()) >= j.size {
		return nil // nothing to gain
	}
	tmp := j.name + ".tmp"
	if err := writeSynced(j.fsys, tmp, buf.Bytes()); err != nil {
		j.fsys.Remove(tmp)
		return fmt.Errorf("compact %s: %w", j.name, err)
	}
	if err := j.fsys.Rename(tmp, j.name); err != nil {
		j.fsys.Remove(tmp)
		return fmt.Errorf("compact %s: %w", j.name, err)
	}
	return syncDir(j.fsys, filepath.Dir(j.name))
}

func (j *Journal) release() {
	if j.unlock != nil {
		j.unlock()
		j.unlock = nil
	}
	j.f.Close()
}

// parsedJournal is what a journal file holds.
type parsedJournal struct {
	media    string
	left     []Entry // files of batches not done, in order
	maxBatch int64
	whole    int64 // bytes up to the end of the last whole line
}

// parseJournal reads a journal. A last line without its newline is torn
// and ignored; any other line that is not a record is an error, since the
// tool is the only writer.
func parseJournal(b []byte) (parsedJournal, error) {
	var p parsedJournal
	type batch struct {
		at    time.Time
		files []string
	}
	batches := map[int64]*batch{}
	var order []int64
	var cur *batch
	end := bytes.LastIndexByte(b, '\n') + 1
	p.whole = int64(end)
	sc := bufio.NewScanner(bytes.NewReader(b[:end]))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			media, ok := strings.CutPrefix(line, journalMagic+" media-root=")
			var err error
			if ok {
				p.media, err = strconv.Unquote(media)
			}
			if !ok || err != nil {
				return p, fmt.Errorf("line 1: not a cleanup-stale journal")
			}
			continue
		}
		kind, arg, _ := strings.Cut(line, " ")
		var err error
		switch kind {
		case "batch":
			seqText, atText, _ := strings.Cut(arg, " ")
			var seq int64
			var at time.Time
			if seq, err = strconv.ParseInt(seqText, 10, 64); err == nil {
				at, err = time.Parse(time.RFC3339Nano, atText)
			}
			if err == nil {
				cur = &batch{at: at}
				batches[seq] = cur
				order = append(order, seq)
				p.maxBatch = max(p.maxBatch, seq)
			}
		case "file":
			var path string
			if path, err = strconv.Unquote(arg); err == nil {
				if cur == nil {
					err = errors.New("file before any batch")
				} else {
					cur.files = append(cur.files, path)
				}
			}
		case "done":
			var seq int64
			if seq, err = strconv.ParseInt(arg, 10, 64); err == nil {
				delete(batches, seq)
			}
		default:
			err = errors.New("unknown record")
		}
		if err != nil {
			return p, fmt.Errorf("line %d: %q: %v", n, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return p, err
	}
	for _, seq := range order {
		if bt, ok := batches[seq]; ok {
			for _, f := range bt.files {
				p.left = append(p.left, Entry{Batch: seq, At: bt.at, Path: f})
			}
		}
	}
	return p, nil
}

// ReadJournal returns the files that the journal at name lists in batches
// not done, without locking, creating or changing it. A missing journal
// lists none. Dry runs and stats report how many there are.
func ReadJournal(fsys afero.Fs, name string) ([]Entry, error) {
	b, err := afero.ReadFile(fsys, name)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	p, err := parseJournal(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrJournal, name, err)
	}
	return p.left, nil
}
