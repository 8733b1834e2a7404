package cleanup

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"path"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

// finishDue finishes what earlier runs left in the journal and is due: the
// files of batches whose rows have been gone for the file grace. It
// streams them from the journal and takes them through the gate a chunk
// at a time (up to maxFilesPerBatch files), noting after each chunk what
// is finished: a file removed, gone already, no longer the file journaled,
// or named by a row again (a row written back, another that shares it).
// A file whose removal failed, or that a stop cut short, stays listed. A
// stop ends it between two chunks. A file's times play no part: a file
// whose row is gone goes, however it was touched.
//
// A file that a batch still in its grace lists too is not taken: its
// latest deletion counts (the web app wrote its row back, and the row was
// deleted again), and that batch finishes it. An entry that is not a
// clean path under MEDIA_ROOT is reported and dropped, since no run could
// ever honour it.
func (r *runner) finishDue(ctx context.Context) error {
	due, waiting := r.journal.leftBatches(r.journal.clock(), r.opt.FileGrace)
	if len(due) == 0 {
		return nil
	}
	if err := r.mediaMounted(due); err != nil {
		return err
	}
	later, err := r.listedIn(waiting)
	if err != nil {
		return err
	}
	defer later.close()
	d := dueChunks{runner: r, ctx: ctx, later: later, through: map[int64]int64{}}
	err = r.journal.eachLeft(due, d.add)
	if err == nil {
		err = d.flush()
	}
	if errors.Is(err, errStopped) {
		return nil // the rest stays listed; Run sees the stop next
	}
	return err
}

// errStopped ends the due phase's walk through the journal at a stop.
var errStopped = errors.New("stopped")

// dueChunks gathers the due files into chunks for the gate.
type dueChunks struct {
	*runner
	ctx     context.Context
	later   *pathSet // files that batches still in their grace list
	chunk   []entry
	batches []int64         // each chunk entry's batch
	through map[int64]int64 // per batch, its files finished once the chunk is
}

// add takes one due file: into the chunk, or dropped at once.
func (d *dueChunks) add(batch, index int64, e entry) error {
	d.rep.Pending++
	d.through[batch] = index + 1
	if _, err := fs.CleanPath(e.path); err != nil {
		d.opt.Log.Error("journal entry refused and dropped: not a clean path under MEDIA_ROOT", "path", e.path, "error", err)
		d.rep.addFailure(Failure{Path: e.path, Error: "journal entry refused: " + err.Error()})
		return nil
	}
	if listed, err := d.later.has(e.path); listed || err != nil {
		return err
	}
	d.chunk, d.batches = append(d.chunk, e), append(d.batches, batch)
	if len(d.chunk) == maxFilesPerBatch {
		return d.flush()
	}
	return nil
}

// flush takes the chunk through the gate and notes what it finished.
func (d *dueChunks) flush() error {
	if len(d.through) == 0 {
		return nil
	}
	if d.ctx.Err() != nil {
		return errStopped
	}
	var verdicts []verdict
	if len(d.chunk) > 0 {
		var err error
		if verdicts, err = d.gate.pass(d.ctx, d.chunk); err != nil {
			return err
		}
	}
	var retry []entry
	gone := d.journal.clock()
	for i, v := range verdicts {
		d.judged(v, d.chunk[i], "")
		if !v.finished() {
			retry = append(retry, d.chunk[i])
			gone = d.journal.goneAt(d.batches[i])
		}
	}
	if err := d.journal.settle(retry, gone, d.through); err != nil {
		return err
	}
	d.chunk, d.batches, d.through = d.chunk[:0], d.batches[:0], map[int64]int64{}
	if d.ctx.Err() != nil {
		return errStopped
	}
	return nil
}

// mediaMounted refuses to finish due files on a MEDIA_ROOT that holds
// nothing at all: what a disk that is not mounted looks like (its empty
// mount point). Every file would seem gone already, and the journal, its
// only record of them, would be emptied.
func (r *runner) mediaMounted(due map[int64]*journalBatch) error {
	empty, err := fs.IsEmpty(r.media)
	if err != nil || !empty {
		return err
	}
	var n int64
	for _, b := range due {
		n += b.pending()
	}
	return fmt.Errorf("%w: MEDIA_ROOT is empty, but the journal lists %d file(s) due for removal: is the disk mounted? "+
		"Nothing was removed, and the journal is kept", fs.ErrNoMediaRoot, n)
}

// listedIn returns the set of the files that batches list, by their clean
// paths, streamed from the journal into a set whose memory does not grow
// with the journal.
func (r *runner) listedIn(batches map[int64]*journalBatch) (*pathSet, error) {
	s := newPathSet(r.spill())
	if len(batches) == 0 {
		return s, s.seal()
	}
	err := r.journal.eachLeft(batches, func(_, _ int64, e entry) error { return s.add(e.path) })
	if err == nil {
		err = s.seal()
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// pathSet is a set of paths, compared in clean form, as 64-bit hashes in a
// hashSet: its memory stays flat however many paths it holds. A hash
// collision can only make a path seem listed: it keeps a file, never
// removes one.
type pathSet struct {
	seed maphash.Seed
	set  *hashSet
	raw  bool // the strings are not paths: compared as they are
}

func newPathSet(sp spill) *pathSet {
	return &pathSet{seed: maphash.MakeSeed(), set: newHashSet(sp.dir, sp.limit)}
}

func (s *pathSet) hash(p string) uint64 {
	if !s.raw {
		p = path.Clean(p)
	}
	return maphash.String(s.seed, p)
}
func (s *pathSet) add(p string) error { return s.set.add(s.hash(p)) }
func (s *pathSet) seal() error        { return s.set.seal() }
func (s *pathSet) close()             { s.set.close() }

func (s *pathSet) has(p string) (bool, error) { return s.set.has(s.hash(p)) }

// spill says where a hashSet may put its temporary file (dir, "" for the
// system's), and how many hashes it may hold in memory (0 for the
// default).
type spill struct {
	dir   string
	limit int
}

// spill is where the run's sets of files may spill to disk.
func (r *runner) spill() spill { return spill{dir: r.opt.TempDir, limit: r.opt.hashLimit} }

// noteWaiting reports the files that wait in the journal for their grace
// when the run ends.
func (r *runner) noteWaiting() {
	s := r.journal.Summary(r.opt.FileGrace)
	r.rep.Waiting, r.rep.NextDue = s.Waiting+s.Due, s.NextDue
	if s.Due > 0 {
		r.rep.NextDue = r.journal.clock().wall // listed again after a failure: the next run retries
	}
}
