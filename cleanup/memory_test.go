package cleanup

import (
	"fmt"
	"testing"
)

// TestPathSetDoesNotHoldTheJournal: the set of a journal's files, which
// the due phase (files that batches still in their grace list) and the
// sweep (every file listed) build, does not hold them all in memory: past
// its limit it spills to disk, and holds no more than its limit and a
// block index, while it still answers exactly, in clean form. A set that
// kept every path (or every hash) in memory fails here.
func TestPathSetDoesNotHoldTheJournal(t *testing.T) {
	const n, limit = 3000, 300
	s := newPathSet(spill{dir: t.TempDir(), limit: limit})
	defer s.close()
	for i := range n {
		if err := s.add(fmt.Sprintf("stl/2026/11/f%05d.stl", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.seal(); err != nil {
		t.Fatal(err)
	}
	if s.set.file == nil || s.set.inMemory() > n/2 {
		t.Fatalf("the set of %d files holds %d hashes in memory (spilled: %v); want at most its limit of %d and an index",
			n, s.set.inMemory(), s.set.file != nil, limit)
	}
	for i := range n {
		for _, p := range []string{fmt.Sprintf("stl/2026/11/f%05d.stl", i), fmt.Sprintf("stl//2026/./11/f%05d.stl", i)} {
			if listed, err := s.has(p); err != nil || !listed {
				t.Fatalf("%s: listed = %v, %v", p, listed, err)
			}
		}
	}
	for _, p := range []string{"stl/2026/11/none.stl", "stl/2026/11/f99999.stl", "other/f00001.stl"} {
		if listed, err := s.has(p); err != nil || listed {
			t.Errorf("%s, which is not listed: %v, %v", p, listed, err)
		}
	}
}
