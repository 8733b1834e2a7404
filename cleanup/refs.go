package cleanup

import (
	"context"
	"hash/maphash"
	"path"
	"slices"

	"github.com/cleanup-stale/cleanup-stale/store"
)

// fileRefs is what one scan of the table tells about shared files: which
// rows may share a file with another row, and where the scan stopped.
//
// Nothing indexes stl_file, so asking "does another row use this file?" in
// SQL is a full scan, too slow to do per batch and too long to do while
// holding the write lock. Instead the run scans once, in short reads,
// before its first removal. Shared files are rare (the web app gives every
// upload its own name), so the scan keeps only a 64-bit hash per row and
// then the ids of the rows whose hash appears twice: about 8 bytes a row.
// The write transaction then checks only those rows, plus the rows added
// since the scan, all by rowid.
type fileRefs struct {
	suspects map[string][]int64 // clean path -> every row that used it, for paths used twice or more
	maxID    int64              // rows above this id were not scanned
}

func loadFileRefs(ctx context.Context, db store.DB) (*fileRefs, error) {
	seed := maphash.MakeSeed()
	var hashes []uint64
	maxID, err := db.EachFile(ctx, 0, func(_ int64, file string) error {
		hashes = append(hashes, maphash.String(seed, path.Clean(file)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(hashes)
	twice := map[uint64]bool{}
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			twice[hashes[i]] = true
		}
	}
	hashes = nil
	refs := &fileRefs{suspects: map[string][]int64{}, maxID: maxID}
	if len(twice) == 0 {
		return refs, nil
	}
	// Second pass, only when something may be shared: the ids behind the
	// repeated hashes. A hash collision merely adds a suspect.
	_, err = db.EachFile(ctx, 0, func(id int64, file string) error {
		if clean := path.Clean(file); id <= maxID && twice[maphash.String(seed, clean)] {
			refs.suspects[clean] = append(refs.suspects[clean], id)
		}
		return nil
	})
	return refs, err
}

// suspectsFor returns the rows that may share one of files.
func (r *fileRefs) suspectsFor(files []string) []int64 {
	var ids []int64
	for _, f := range files {
		ids = append(ids, r.suspects[path.Clean(f)]...)
	}
	return ids
}
