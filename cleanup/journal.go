package cleanup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/afero"
)

// The pending-removal journal closes the gap between a row's deletion and
// its file's removal. A file is removed only after its row's deletion has
// committed, and only once the row has been gone for the file grace, so
// files whose rows are gone wait somewhere: here. Before a batch's write
// transaction, the run writes the batch's candidate files here and
// fsyncs; after the commit it notes when the rows went; once the grace has
// passed, a run removes each listed file that no row references then, and
// marks the batch done (docs/design.md, The journal).
//
// The file is text, a record per line, so that a person can read it:
//
//	cleanup-stale pending removals v2 media-root="/srv/printdesk/media"
//	batch 7 2026-11-26T20:05:09.123456Z
//	file "stl/2026/11/s7-0000042.stl"
//	file "stl/2026/11/s7-0000043.stl"
//	gone 7 2026-11-26T20:05:09.187002Z
//	done 7
//
// "gone" says when the batch's transaction committed: its files are due a
// grace later. A batch without one (the run died around its commit) is
// treated as gone when a later run first sees it. A torn last line (power
// lost in the middle of an append) is ignored: a "batch" record reaches
// its transaction only after the fsync. The journal is trusted only as far
// as the database is (see openJournalFile), and a run that ends with
// nothing listed removes it.

// journalMagic starts the first line of every journal; journalVersion is
// what this version writes. Version 1 (no "gone" records) is read too.
const (
	journalMagic   = "cleanup-stale pending removals"
	journalVersion = "v2"
)

// Journal errors. ErrJournal means the journal cannot be used at all: the
// command line maps it to exit status 2, before anything is deleted.
var (
	ErrJournal = errors.New("pending-removal journal unusable")
	// ErrJournalBusy means another run holds the journal: it is working
	// on the same database right now.
	ErrJournalBusy = errors.New("another cleanup-stale run is active on this database")
)

// Journal is an open pending-removal journal, locked for one run. It holds
// what it knows of each batch in memory, but not the batches' files, which
// it reads back from the file when they are due: a journal of a million
// files costs a run no more memory than one of ten.
type Journal struct {
	fsys  afero.Fs
	name  string
	media string
	now   func() time.Time

	mu     sync.Mutex
	f      afero.File
	unlock func()
	size   int64 // bytes of whole records; appends go here
	read   int64 // bytes read at open: the records an earlier run left
	next   int64 // the next batch's number
	open   map[int64]*journalBatch
	done   int // "done" records in the file, which a compaction drops
}

// journalBatch is what the journal knows of one batch that is not done.
type journalBatch struct {
	at    time.Time // when it was written
	gone  time.Time // when its rows' deletion committed; zero while unknown
	files int64
	// left is true for a batch that an earlier run left; its files are
	// read back from the file. A batch of this run's has its files in the
	// run's memory.
	left bool
}

// OpenJournal opens (creating it, mode 0600) and locks the journal at name
// in fsys, for a run that removes files under media. It reads what earlier
// runs left, drops a torn last line, and notes as gone now every batch
// whose commit it cannot know or whose time is in the future.
//
// It fails with ErrJournal when the file cannot be trusted (see
// openJournalFile), created, read, locked or written, when it is not a
// journal, or when it lists files left under another media root; with
// ErrJournalBusy when another run holds it.
func OpenJournal(fsys afero.Fs, name, media string) (*Journal, error) {
	j := &Journal{fsys: fsys, name: name, media: media, now: time.Now, next: 1, open: map[int64]*journalBatch{}}
	if err := j.openLocked(); err != nil {
		return nil, err
	}
	p, err := parseJournal(io.NewSectionReader(j.f, 0, 1<<62), nil)
	if err == nil && p.media != media && p.files() > 0 {
		err = errOtherMedia(p, media)
	}
	if err != nil {
		j.release()
		return nil, fmt.Errorf("%w: %s: %v", ErrJournal, name, err)
	}
	j.next, j.done = p.maxBatch+1, p.done
	j.size, j.read = p.whole, p.whole
	if p.files() == 0 {
		j.size, j.read = 0, 0 // nothing left to do: start afresh
	}
	for seq, b := range p.batches {
		if b.files > 0 {
			b.left = true
			j.open[seq] = b
		}
	}
	if err := j.truncate(); err != nil {
		j.release()
		return nil, err
	}
	if err := j.stampUnknown(); err != nil {
		j.release()
		return nil, err
	}
	return j, nil
}

func errOtherMedia(p parsedJournal, media string) error {
	return fmt.Errorf("it lists %d file(s) to remove under media root %q, but this run's is %q; "+
		"run once with that media root to finish them", p.files(), p.media, media)
}

// truncate cuts the file back to its whole records, after a torn line.
func (j *Journal) truncate() error {
	fi, err := j.f.Stat()
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrJournal, j.name, err)
	}
	if fi.Size() != j.size {
		if err := j.f.Truncate(j.size); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrJournal, j.name, err)
		}
	}
	return nil
}

// stampUnknown notes as gone now each batch that an earlier run left
// without a time it can trust: none (it died around its commit; if the
// rows went, they went before now), or one in the future (a clock that
// jumped back, as a Raspberry Pi's does at boot). Its files then wait a
// full grace from now, never less. A batch dated in the future with a gone
// time that is not is one that a run has already stamped so: that first
// stamp stands, or every run would push the batch's files a grace further
// on, for as long as its date stays ahead.
func (j *Journal) stampUnknown() error {
	now := j.now().UTC()
	var buf bytes.Buffer
	for seq, b := range j.open {
		if !b.gone.IsZero() && !b.gone.After(now) {
			continue
		}
		b.gone = now
		fmt.Fprintf(&buf, "gone %d %s\n", seq, now.Format(time.RFC3339Nano))
	}
	if buf.Len() == 0 {
		return nil
	}
	if err := j.append(buf.Bytes(), false); err != nil {
		return fmt.Errorf("%w: %v", ErrJournal, err)
	}
	return nil
}

// openLocked opens the file and takes its lock, so that two runs never
// write one journal at once. A journal is replaced by rename when it is
// compacted, so after locking it checks that the file it locked is still
// the one at name, and tries again if not.
func (j *Journal) openLocked() error {
	for {
		f, created, err := openJournalFile(j.fsys, j.name, true)
		if err != nil {
			return err
		}
		if created {
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

// record writes a batch of files that are about to lose their rows, and
// fsyncs, before the batch's write transaction begins. It returns the
// batch's number, for markGone and finishBatches. On error nothing is
// listed and nothing may be deleted.
func (j *Journal) record(paths []string) (int64, error) {
	if err := j.opened(); err != nil {
		return 0, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.add(paths, time.Time{})
}

// errNotOpened is what a Journal that OpenJournal did not open says.
var errNotOpened = fmt.Errorf("%w: not opened with OpenJournal", ErrJournal)

// opened fails for a nil or zero Journal, which has no file to write.
func (j *Journal) opened() error {
	if j == nil || j.f == nil {
		return errNotOpened
	}
	return nil
}

// add writes a batch; a gone time, if given, goes with it.
func (j *Journal) add(paths []string, gone time.Time) (int64, error) {
	seq, at := j.next, j.now().UTC()
	var buf bytes.Buffer
	if j.size == 0 {
		fmt.Fprintf(&buf, "%s %s media-root=%s\n", journalMagic, journalVersion, strconv.Quote(j.media))
	}
	fmt.Fprintf(&buf, "batch %d %s\n", seq, at.Format(time.RFC3339Nano))
	for _, p := range paths {
		fmt.Fprintf(&buf, "file %s\n", strconv.Quote(p))
	}
	if !gone.IsZero() {
		fmt.Fprintf(&buf, "gone %d %s\n", seq, gone.UTC().Format(time.RFC3339Nano))
	}
	if err := j.append(buf.Bytes(), true); err != nil {
		return 0, err
	}
	j.next++
	j.open[seq] = &journalBatch{at: at, gone: gone.UTC(), files: int64(len(paths))}
	return seq, nil
}

// markGone notes that batch's rows were deleted, by a commit that has just
// returned: its files are due a grace from now. Not fsynced: a lost "gone"
// only makes a later run note the batch as gone when it reads it, later.
func (j *Journal) markGone(batch int64) error {
	if err := j.opened(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	b, ok := j.open[batch]
	if !ok {
		return nil
	}
	now := j.now().UTC()
	if err := j.append(fmt.Appendf(nil, "gone %d %s\n", batch, now.Format(time.RFC3339Nano)), false); err != nil {
		return err
	}
	b.gone = now
	return nil
}

// finishBatches marks batches done once their files are removed (or kept).
// left lists the files of theirs that stay pending (a removal that
// failed, or, of a batch whose transaction deleted only some of its rows,
// the files of the rows it deleted): they are written into a new batch
// first, gone since the first of batches went, so that a later run
// finishes them.
func (j *Journal) finishBatches(left []string, batches ...int64) error {
	if err := j.opened(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(left) > 0 {
		gone := j.now()
		for _, seq := range batches {
			if b := j.open[seq]; b != nil && !b.gone.IsZero() && b.gone.Before(gone) {
				gone = b.gone
			}
		}
		if _, err := j.add(left, gone); err != nil {
			return err
		}
	}
	return j.markDone(batches)
}

// retry lists files that could not be removed in a new batch, gone at
// gone, so that the next run past their grace retries them.
func (j *Journal) retry(failed []string, gone time.Time) (int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.add(failed, gone)
}

// markDone appends a "done" record for each of batches.
func (j *Journal) markDone(batches []int64) error {
	var buf bytes.Buffer
	for _, seq := range batches {
		fmt.Fprintf(&buf, "done %d\n", seq)
	}
	// Not fsynced: a lost "done" only makes a later run check files that
	// are already gone.
	if err := j.append(buf.Bytes(), false); err != nil {
		return err
	}
	for _, seq := range batches {
		delete(j.open, seq)
	}
	j.done += len(batches)
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

// JournalSummary counts the files that a journal lists.
type JournalSummary struct {
	// Due counts the files whose grace has passed: the next run removes
	// them (those that no row references then).
	Due int64 `json:"due"`
	// Waiting counts the files still in their grace, and NextDue is when
	// the first of them is due (zero when none waits).
	Waiting int64     `json:"waiting"`
	NextDue time.Time `json:"next_due,omitzero"`
}

// Summary counts the files listed in batches not done, as due or waiting
// at now for grace. A batch whose commit time is not known yet counts as
// waiting a full grace from now.
func (j *Journal) Summary(now time.Time, grace time.Duration) JournalSummary {
	if j == nil {
		return JournalSummary{}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return summarize(j.open, now, grace)
}

func summarize(batches map[int64]*journalBatch, now time.Time, grace time.Duration) JournalSummary {
	var s JournalSummary
	for _, b := range batches {
		due := now.Add(grace)
		if !b.gone.IsZero() && !b.gone.After(now) {
			due = b.gone.Add(grace)
		}
		if !due.After(now) {
			s.Due += b.files
			continue
		}
		s.Waiting += b.files
		if s.NextDue.IsZero() || due.Before(s.NextDue) {
			s.NextDue = due
		}
	}
	return s
}

// dueLeft returns the batches that earlier runs left whose grace has
// passed at now, and when the rows of the first of them went.
func (j *Journal) dueLeft(now time.Time, grace time.Duration) (due map[int64]bool, gone time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	due = map[int64]bool{}
	for seq, b := range j.open {
		if b.left && !b.gone.IsZero() && !b.gone.Add(grace).After(now) {
			due[seq] = true
			if gone.IsZero() || b.gone.Before(gone) {
				gone = b.gone
			}
		}
	}
	return due, gone
}

// eachLeft calls fn for every file of the batches in want, as an earlier
// run wrote them, streaming them from the file.
func (j *Journal) eachLeft(want map[int64]bool, fn func(batch int64, path string) error) error {
	if len(want) == 0 {
		return nil
	}
	_, err := parseJournal(io.NewSectionReader(j.f, 0, j.read), func(batch int64, path string) error {
		if want[batch] {
			return fn(batch, path)
		}
		return nil
	})
	return err
}

// Close ends the run's use of the journal and unlocks it. When every
// batch is done, the journal is removed: between runs there is none.
// Otherwise it is rewritten with only the batches not done (by a rename,
// so that a crash leaves either the old journal or the new one).
func (j *Journal) Close() error {
	if err := j.opened(); err != nil {
		return err
	}
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
	if j.done == 0 {
		return nil // nothing to drop
	}
	return j.compact()
}

// compact rewrites the journal with the batches not done, each with its
// files and its gone time, streaming it through a new file.
func (j *Journal) compact() error {
	tmp := j.name + ".tmp"
	f, err := createJournalTemp(j.fsys, tmp)
	if err != nil {
		return fmt.Errorf("compact %s: %w", j.name, err)
	}
	err = j.writeOpen(f)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = j.fsys.Rename(tmp, j.name)
	}
	if err != nil {
		j.fsys.Remove(tmp)
		return fmt.Errorf("compact %s: %w", j.name, err)
	}
	return syncDir(j.fsys, filepath.Dir(j.name))
}

// writeOpen writes the batches not done to w, in the journal's format.
func (j *Journal) writeOpen(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "%s %s media-root=%s\n", journalMagic, journalVersion, strconv.Quote(j.media))
	last := int64(-1)
	finish := func() {
		if b := j.open[last]; b != nil && !b.gone.IsZero() {
			fmt.Fprintf(bw, "gone %d %s\n", last, b.gone.Format(time.RFC3339Nano))
		}
	}
	_, err := parseJournal(io.NewSectionReader(j.f, 0, j.size), func(batch int64, path string) error {
		b := j.open[batch]
		if b == nil {
			return nil
		}
		if batch != last {
			finish()
			last = batch
			fmt.Fprintf(bw, "batch %d %s\n", batch, b.at.Format(time.RFC3339Nano))
		}
		_, err := fmt.Fprintf(bw, "file %s\n", strconv.Quote(path))
		return err
	})
	if err != nil {
		return err
	}
	finish()
	return bw.Flush()
}

func (j *Journal) release() {
	if j.unlock != nil {
		j.unlock()
		j.unlock = nil
	}
	j.f.Close()
}
