package cleanup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"maps"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/afero"
)

// The pending-removal journal closes the gap between a row's deletion and
// its file's removal. A file is removed only after its row's deletion has
// committed, and only once the row has been gone for the file grace, so
// files whose rows are gone wait somewhere: here. Before a batch's write
// transaction, the run writes the batch's files, each with its identity,
// here and fsyncs; after the commit it notes when the rows went; once the
// grace has passed, a run takes each listed file that is still the file
// journaled and that no row names then through the removal gate, and
// notes, a chunk at a time, what it finished (docs/design.md, The journal;
// the format is in journal_format.go). The journal is trusted only as far
// as the database is (see openJournalFile), and a run that ends with
// nothing listed removes it.

// Journal errors. ErrJournal means the journal cannot be used at all: the
// command line maps it to exit status 2, before anything is deleted.
var (
	ErrJournal = errors.New("pending-removal journal unusable")
	// ErrJournalBusy means another run holds the journal: it is working
	// on the same database right now.
	ErrJournalBusy = errors.New("another cleanup-stale run is active on this database")
)

// Media names the MEDIA_ROOT that a journal's files are under.
type Media struct {
	// Name is the media root as the operator gave it, made absolute (a
	// directory) or as a URL (s3://): what messages show.
	Name string
	// ID is what the media root is, whatever spelling reached it
	// (fs.RootID): a journal is finished only against the root it was
	// written for, and an unmounted disk's empty mount point is not that
	// root. "" where the file system cannot tell; then Name is compared.
	ID string
}

// same reports whether m and o are one media root.
func (m Media) same(o Media) bool {
	if m.ID != "" && o.ID != "" {
		return m.ID == o.ID
	}
	return m.Name == o.Name
}

// Journal is an open pending-removal journal, locked for one run. It holds
// what it knows of each batch in memory, but not the batches' files, which
// it reads back from the file when they are due: a journal of a million
// files costs a run no more memory than one of ten.
type Journal struct {
	fsys  afero.Fs
	name  string
	media Media
	clock clock
	// database names the database whose rows named its files, in its
	// header (see Adopt); "" where the journal does not know it.
	database string

	mu       sync.Mutex
	f        afero.File // nil for a read-only journal of a database without one
	readOnly bool       // opened by ReadOnlyJournal: it never writes
	unlock   func()
	size     int64 // bytes of whole records; appends go here
	read     int64 // bytes read at open: the records an earlier run left
	next     int64 // the next batch's number
	open     map[int64]*journalBatch
	done     int // "done" records in the file, which a compaction drops
}

// journalBatch is what the journal knows of one batch that is not done.
type journalBatch struct {
	at    time.Time // when it was written
	gone  instant   // when its rows' deletion committed; zero while unknown
	files int64     // the files it lists
	skip  int64     // the first skip of them are finished
	// left is true for a batch that an earlier run left; its files are
	// read back from the file. A batch of this run's has its files in the
	// run's memory.
	left bool
}

// pending counts the files of b that are not finished.
func (b *journalBatch) pending() int64 { return b.files - b.skip }

// maxSeq is the highest batch number a journal uses before its batches
// are numbered afresh: far from overflowing, and never reached by runs
// that number from 1.
const maxSeq = 1 << 62

// OpenJournal opens (creating it, mode 0600) and locks the journal at name
// in fsys, for a run that removes files under media. It reads what earlier
// runs left, drops a torn last line, and notes as gone now every batch
// whose commit it cannot measure a grace from: none recorded (the run died
// around its commit), one in the future (a clock that jumped back), or one
// of another boot (see instant).
//
// It fails with ErrJournal when the file cannot be trusted (see
// openJournalFile), created, read, locked or written, when it is not a
// journal, or when it lists files left under another media root; with
// ErrJournalBusy when another run holds it.
func OpenJournal(fsys afero.Fs, name string, media Media) (*Journal, error) {
	return openJournal(fsys, name, media, systemClock)
}

// ReadOnlyJournal opens the journal at name, if there is one, to read what
// it lists without locking, creating or changing it: what a dry run reads.
// It refuses what OpenJournal refuses.
func ReadOnlyJournal(fsys afero.Fs, name string, media Media) (*Journal, error) {
	j := &Journal{fsys: fsys, name: name, media: media, clock: systemClock, readOnly: true, open: map[int64]*journalBatch{}}
	f, _, err := openJournalFile(fsys, name, false)
	if errors.Is(err, iofs.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return nil, err
	}
	j.f = f
	p, err := parseJournal(f, nil)
	if err == nil {
		err = checkMedia(p, media)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrJournal, name, err)
	}
	j.read, j.size = p.whole, p.whole
	for seq, b := range p.batches {
		if b.pending() > 0 {
			b.left = true
			j.open[seq] = b
		}
	}
	return j, nil
}

func openJournal(fsys afero.Fs, name string, media Media, clk clock) (*Journal, error) {
	j := &Journal{fsys: fsys, name: name, media: media, clock: clk, next: 1, open: map[int64]*journalBatch{}}
	if err := j.openLocked(); err != nil {
		return nil, err
	}
	if err := j.load(); err != nil {
		j.release()
		return nil, err
	}
	return j, nil
}

// load reads what earlier runs left, renumbers its batches if their
// numbers run high, and stamps the batches without a usable gone time.
func (j *Journal) load() error {
	p, err := parseJournal(io.NewSectionReader(j.f, 0, 1<<62), nil)
	if err == nil {
		err = checkMedia(p, j.media)
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrJournal, j.name, err)
	}
	if p.maxBatch >= maxSeq || p.version != journalVersion && p.files() > 0 {
		// A journal of an earlier version, written again in this one's
		// format (its entries take only files older than their batch: see
		// legacyMargin), or one whose numbers would overflow (written by
		// hand, or by a very long history), numbered from 1.
		if err := j.rewrite(p.batches, p.whole, p.maxBatch >= maxSeq); err != nil {
			return fmt.Errorf("%w: %v", ErrJournal, err)
		}
		// The file locked is the old one; the new one takes its place,
		// under a lock of its own.
		j.release()
		j.f, j.unlock = nil, nil
		if err := j.openLocked(); err != nil {
			return err
		}
		return j.load()
	}
	j.next, j.done = p.maxBatch+1, p.done
	if j.database == "" {
		j.database = p.database
	}
	j.size, j.read = p.whole, p.whole
	if p.files() == 0 {
		j.size, j.read, j.done = 0, 0, 0 // nothing left to do: start afresh
	}
	for seq, b := range p.batches {
		if b.pending() > 0 {
			b.left = true
			j.open[seq] = b
		}
	}
	if err := j.truncate(); err != nil {
		return err
	}
	return j.restamp()
}

// checkMedia refuses a journal that lists files under another media root
// than this run's: an unmounted disk's empty mount point, or a root moved
// elsewhere, where the journal's files are not (docs/troubleshooting.md).
func checkMedia(p parsedJournal, media Media) error {
	if n := p.files(); n > 0 && !p.media.same(media) {
		return fmt.Errorf("it lists %d file(s) to remove under media root %q, but this run's, %q, is another "+
			"directory (is the disk mounted?); nothing was changed. If MEDIA_ROOT moved for good, move this "+
			"journal aside; its files are then orphans that `cleanup-stale sweep` removes", n, p.media.Name, media.Name)
	}
	return nil
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

// restamp notes as gone now each batch that an earlier run left without a
// gone time that a grace can be measured from: none (it died around its
// commit; if the rows went, they went before now), one in the future (a
// wall clock that stepped back: a Raspberry Pi's at boot), or one of
// another boot, whose boot clock says nothing now. Its files then wait a
// full grace from now, never less. A stamp in this boot stands: every
// run would otherwise push the batch's files a grace further on.
func (j *Journal) restamp() error {
	now := j.clock()
	var buf bytes.Buffer
	for seq, b := range j.open {
		if !b.gone.wall.IsZero() && !b.gone.wall.After(now.wall) && sameBoot(b.gone, now) {
			continue
		}
		b.gone = now
		fmt.Fprintf(&buf, "gone %d %s\n", seq, now.format())
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

// record writes a batch of files that are about to lose their rows, each
// with its identity, and fsyncs, before the batch's write transaction
// begins. It returns the batch's number. On error nothing is listed and
// nothing may be deleted.
func (j *Journal) record(entries []entry) (int64, error) {
	if err := j.opened(); err != nil {
		return 0, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.add(entries, instant{})
}

// errNotOpened is what a Journal that OpenJournal did not open says.
var errNotOpened = fmt.Errorf("%w: not opened with OpenJournal", ErrJournal)

// opened fails for a nil or zero Journal, which has no file to write.
func (j *Journal) opened() error {
	if j == nil || j.f == nil && !j.readOnly {
		return errNotOpened
	}
	return nil
}

// add writes a batch, fsynced; a gone time, if given, goes with it.
func (j *Journal) add(entries []entry, gone instant) (int64, error) {
	seq, at := j.next, j.clock().wall.UTC()
	var buf bytes.Buffer
	if j.size == 0 {
		fmt.Fprintf(&buf, "%s\n", header{media: j.media, database: j.database})
	}
	fmt.Fprintf(&buf, "batch %d %s\n", seq, at.Format(time.RFC3339Nano))
	for _, e := range entries {
		buf.WriteString(formatFile(e))
	}
	if !gone.wall.IsZero() {
		fmt.Fprintf(&buf, "gone %d %s\n", seq, gone.format())
	}
	if err := j.append(buf.Bytes(), true); err != nil {
		return 0, err
	}
	j.next++
	j.open[seq] = &journalBatch{at: at, gone: gone, files: int64(len(entries))}
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
	now := j.clock()
	if err := j.append(fmt.Appendf(nil, "gone %d %s\n", batch, now.format()), false); err != nil {
		return err
	}
	b.gone = now
	return nil
}

// goneAt is when batch's rows went, as noted; now when that is not known.
func (j *Journal) goneAt(batch int64) instant {
	j.mu.Lock()
	defer j.mu.Unlock()
	if b := j.open[batch]; b != nil && !b.gone.wall.IsZero() {
		return b.gone
	}
	return j.clock()
}

// settle records what a chunk of removals finished. Each batch in
// through is finished up to that many of its files, from its start (all of
// them: the batch is done). retry lists the files that stay pending (a
// removal that failed or that a stop cut short): they are written first,
// fsynced, into a new batch gone at gone, so that no crash between the two
// writes loses them. The "done" records are not fsynced: a lost one only
// makes a later run take those files through the gate again, which finds
// each gone, or not the file journaled.
func (j *Journal) settle(retry []entry, gone instant, through map[int64]int64) error {
	if err := j.opened(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(retry) > 0 {
		if _, err := j.add(retry, gone); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	var finished []int64
	for seq, n := range through {
		b := j.open[seq]
		switch {
		case b == nil || n <= b.skip:
		case n >= b.files:
			fmt.Fprintf(&buf, "done %d\n", seq)
			finished = append(finished, seq)
		default:
			fmt.Fprintf(&buf, "done %d %d\n", seq, n)
		}
	}
	if buf.Len() == 0 {
		return nil
	}
	if err := j.append(buf.Bytes(), false); err != nil {
		return err
	}
	for seq, n := range through {
		if b := j.open[seq]; b != nil && n > b.skip {
			b.skip = min(n, b.files)
			j.done++
		}
	}
	for _, seq := range finished {
		delete(j.open, seq)
	}
	return nil
}

// append writes b at the end of the whole records. A write that fails
// (a full disk) is cut off again, so that the file stays whole records.
func (j *Journal) append(b []byte, sync bool) error {
	if j.readOnly {
		return fmt.Errorf("%w: %s: opened read-only", ErrJournal, j.name)
	}
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
	// Due counts the files whose grace has passed: the next run takes
	// them through the removal gate.
	Due int64 `json:"due"`
	// Waiting counts the files still in their grace, and NextDue is when
	// the first of them is due (zero when none waits).
	Waiting int64     `json:"waiting"`
	NextDue time.Time `json:"next_due,omitzero"`
}

// Summary counts the files listed and not finished, as due or waiting at
// the journal's clock's now for grace.
func (j *Journal) Summary(grace time.Duration) JournalSummary {
	if j == nil || j.f == nil {
		return JournalSummary{}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return summarize(j.open, j.clock(), grace)
}

// summarize counts batches' files as due or waiting at now. A batch
// whose gone time a grace cannot be measured from (none, in the future,
// another boot) waits a full grace from now: what the next real run
// stamps it with.
func summarize(batches map[int64]*journalBatch, now instant, grace time.Duration) JournalSummary {
	var s JournalSummary
	for _, b := range batches {
		gone := b.gone
		if gone.wall.IsZero() || gone.wall.After(now.wall) || !sameBoot(gone, now) {
			gone = now
		}
		if elapsed(gone, now, grace) {
			s.Due += b.pending()
			continue
		}
		s.Waiting += b.pending()
		if due := dueAt(gone, now, grace); s.NextDue.IsZero() || due.Before(s.NextDue) {
			s.NextDue = due
		}
	}
	return s
}

// dueAt is when, on the wall clock, grace will have passed since gone on
// both clocks: a grace after gone, later by as much as the wall clock was
// stepped forward since (the two clocks' readings drift apart by less
// than a second otherwise, which is left out, so that the time does not
// change from one reading to the next).
func dueAt(gone, now instant, grace time.Duration) time.Time {
	due := gone.wall.Add(grace)
	if gone.boot != "" && gone.boot == now.boot {
		if step := now.wall.Sub(gone.wall) - (now.up - gone.up); step > time.Second {
			due = due.Add(step)
		}
	}
	return due
}

// leftBatches splits the batches that earlier runs left into those due at
// now for grace and those still waiting.
func (j *Journal) leftBatches(now instant, grace time.Duration) (due, waiting map[int64]*journalBatch) {
	j.mu.Lock()
	defer j.mu.Unlock()
	due, waiting = map[int64]*journalBatch{}, map[int64]*journalBatch{}
	for seq, b := range j.open {
		switch {
		case !b.left:
		case elapsed(b.gone, now, grace):
			due[seq] = b
		default:
			waiting[seq] = b
		}
	}
	return due, waiting
}

// eachLeft calls fn for every file of the batches in want that is not
// finished, as an earlier run wrote them, streaming them from the file,
// with the file's place in its batch.
func (j *Journal) eachLeft(want map[int64]*journalBatch, fn func(batch, index int64, e entry) error) error {
	if len(want) == 0 {
		return nil
	}
	_, err := parseJournal(io.NewSectionReader(j.f, 0, j.read), func(batch, index int64, e entry) error {
		if b := want[batch]; b != nil && index >= b.skip {
			return fn(batch, index, e)
		}
		return nil
	})
	return err
}

// listedSet is every file that a journal lists and that is not finished:
// by clean path, and by identity, so that a file listed under one spelling
// is known under another.
type listedSet struct {
	paths, ids *pathSet
}

func (l *listedSet) close() { l.paths.close(); l.ids.close() }

// listed returns the files that the batches not done list.
func (j *Journal) listed(sp spill) (*listedSet, error) {
	l := &listedSet{paths: newPathSet(sp), ids: newPathSet(sp)}
	l.ids.raw = true
	j.mu.Lock()
	open := maps.Clone(j.open)
	j.mu.Unlock()
	var err error
	if j.f != nil {
		err = j.eachLeft(open, func(_, _ int64, e entry) error {
			if err := l.paths.add(e.path); err != nil {
				return err
			}
			return l.ids.add(e.id.String())
		})
	}
	if err == nil {
		err = errors.Join(l.paths.seal(), l.ids.seal())
	}
	if err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// Close ends the run's use of the journal and unlocks it. When every
// batch is done, the journal is removed: between runs there is none.
// Otherwise it is rewritten with only the files not finished (by a
// rename, so that a crash leaves either the old journal or the new one).
func (j *Journal) Close() error {
	if err := j.opened(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	defer j.release()
	if j.readOnly {
		return nil
	}
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
	return j.rewrite(j.open, j.size, false)
}

// rewrite writes the journal again with the files of batches not finished,
// each batch with its gone time, streaming them through a new file that
// replaces it; renumber numbers the batches from 1.
func (j *Journal) rewrite(batches map[int64]*journalBatch, size int64, renumber bool) error {
	tmp := j.name + ".tmp"
	f, err := createJournalTemp(j.fsys, tmp)
	if err != nil {
		return fmt.Errorf("compact %s: %w", j.name, err)
	}
	err = j.writeOpen(f, batches, size, renumber)
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
	if err := syncDir(j.fsys, filepath.Dir(j.name)); err != nil {
		return err
	}
	return nil
}

// writeOpen writes the files of batches that are not finished to w, in the
// journal's format, in the order of the file; renumber numbers the batches
// from 1.
func (j *Journal) writeOpen(w io.Writer, batches map[int64]*journalBatch, size int64, renumber bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "%s\n", header{media: j.media, database: j.database})
	last, out, n := int64(-1), int64(0), int64(0)
	finish := func() {
		if b := batches[last]; b != nil && !b.gone.wall.IsZero() {
			fmt.Fprintf(bw, "gone %d %s\n", out, b.gone.format())
		}
	}
	_, err := parseJournal(io.NewSectionReader(j.f, 0, size), func(batch, index int64, e entry) error {
		b := batches[batch]
		if b == nil || index < b.skip {
			return nil
		}
		if batch != last {
			finish()
			last, out, n = batch, batch, n+1
			if renumber {
				out = n
			}
			fmt.Fprintf(bw, "batch %d %s\n", out, b.at.Format(time.RFC3339Nano))
		}
		_, err := bw.WriteString(formatFile(e))
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
	if j.f != nil {
		j.f.Close()
	}
}
