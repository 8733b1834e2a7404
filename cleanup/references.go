package cleanup

import (
	"context"
	"hash/maphash"
	"path"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// references is the set of files that the rows name, for the questions
// "does a row use this file?" (the sweep, the journal's recovery) and
// "which rows may share a file?" (the cleanup).
//
// Nothing indexes stl_file, so the only way to ask is to read every row's
// file, in short reads, once per run. Each file is kept as a 64-bit hash
// of its fs.Keys key, so that two spellings of one file (a directory
// symlink, a file symlink) count as one, in 8 bytes a row, in a hashSet,
// which keeps its memory flat however large the table: past a limit, the
// hashes go to a temporary file. A hash collision can only make a file
// look used: it spares a file, never removes one.
type references struct {
	seed  maphash.Seed
	set   *hashSet        // every row read by the first scan
	added map[uint64]bool // rows read later, by readNew
	maxID int64           // rows above this id were not read
}

// spill says where a hashSet may put its temporary file (dir, "" for the
// system's), and how many hashes it may hold in memory (0 for the
// default).
type spill struct {
	dir   string
	limit int
}

// loadReferences reads every row's file.
func loadReferences(ctx context.Context, db protocol.DB, keys fs.Keys, sp spill) (*references, error) {
	r := &references{seed: maphash.MakeSeed(), set: newHashSet(sp.dir, sp.limit), added: map[uint64]bool{}}
	maxID, err := db.EachFile(ctx, 0, func(_ int64, file string) error {
		for _, k := range namesOf(keys, file) {
			if err := r.set.add(r.hash(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = r.set.seal()
	}
	if err != nil {
		r.close()
		return nil, err
	}
	r.maxID = maxID
	return r, nil
}

func (r *references) hash(key string) uint64 { return maphash.String(r.seed, key) }

// has reports whether a row read so far names the file at name, by what
// it is now or by its spelling.
func (r *references) has(keys fs.Keys, name string) (bool, error) {
	for _, k := range namesOf(keys, name) {
		h := r.hash(k)
		if r.added[h] {
			return true, nil
		}
		if found, err := r.set.has(h); found || err != nil {
			return found, err
		}
	}
	return false, nil
}

// close releases the set's temporary file.
func (r *references) close() { r.set.close() }

// namesOf returns the keys a file is known by: what it is (fs.Keys) and,
// where that differs, its clean spelling. A key is taken when the file is
// read; one replaced since (a restore by rename) has a new key, but the
// same spelling, and must still count as used.
func namesOf(keys fs.Keys, file string) []string {
	k, t := keys.Key(file), "t:"+path.Clean(file)
	if k == t {
		return []string{k}
	}
	return []string{k, t}
}

// readNew reads the files of the rows added since the last read.
func (r *references) readNew(ctx context.Context, db protocol.DB, keys fs.Keys) error {
	maxID, err := db.EachFile(ctx, r.maxID, func(_ int64, file string) error {
		for _, k := range namesOf(keys, file) {
			r.added[r.hash(k)] = true
		}
		return nil
	})
	r.maxID = max(r.maxID, maxID)
	return err
}

// sharing is what the cleanup needs from one scan: the rows that may
// share a file with another row, by key, and where the scan stopped. The
// write transaction then checks only those rows, plus the rows added
// since the scan, all by rowid (see protocol.Others).
type sharing struct {
	suspects map[string][]int64 // key -> every row that names it, for keys named twice or more
	maxID    int64
}

func loadSharing(ctx context.Context, db protocol.DB, keys fs.Keys, sp spill) (*sharing, error) {
	refs, err := loadReferences(ctx, db, keys, sp)
	if err != nil {
		return nil, err
	}
	twice := refs.set.repeated
	refs.close()
	s := &sharing{suspects: map[string][]int64{}, maxID: refs.maxID}
	if len(twice) == 0 {
		return s, nil
	}
	// Second pass, only when something may be shared (rare: the web app
	// gives every upload its own name): the rows behind the repeated keys.
	_, err = db.EachFile(ctx, 0, func(id int64, file string) error {
		for _, key := range namesOf(keys, file) {
			if id <= s.maxID && twice[refs.hash(key)] {
				s.suspects[key] = append(s.suspects[key], id)
			}
		}
		return nil
	})
	return s, err
}

// suspectsFor returns the rows that may share one of files, by what each
// is now or by its spelling.
func (s *sharing) suspectsFor(keys fs.Keys, files []string) []int64 {
	var ids []int64
	for _, f := range files {
		for _, k := range namesOf(keys, f) {
			ids = append(ids, s.suspects[k]...)
		}
	}
	return ids
}
