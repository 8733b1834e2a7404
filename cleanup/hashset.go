package cleanup

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
)

// hashSet is a set of 64-bit hashes, filled once, then asked. It is how a
// run remembers every file that the rows name (see references) in memory
// that does not grow with the table: it holds at most limit hashes in
// memory, and beyond that sorts them a run at a time into a temporary
// file, merges the runs once, and then answers from the file a block at a
// time, through a small in-memory index of the blocks.
//
// The temporary file is unlinked as soon as it is created, so that
// nothing is left behind whatever happens to the process.
type hashSet struct {
	dir   string // where the temporary file goes; "" is os.TempDir()
	limit int    // hashes held in memory at most

	buf  []uint64 // hashes not yet sorted into a run; after seal, every hash when nothing spilled
	file *os.File // the sorted runs, then the merged set; nil until the first spill
	runs []span   // the sorted runs in file

	sealed   bool
	merged   span     // the merged set in file
	index    []uint64 // the first hash of each block of merged
	repeated map[uint64]bool

	mu    sync.Mutex // guards block and raw, which has reads into
	block []uint64
	raw   []byte
}

// span is a stretch of hashes in the temporary file.
type span struct{ off, n int64 }

// hashBlock is how many hashes one lookup reads from the file: 2 KiB.
const hashBlock = 256

// defaultHashLimit is how many hashes a set holds in memory: 2 MiB.
const defaultHashLimit = 1 << 18

func newHashSet(dir string, limit int) *hashSet {
	if limit <= 0 {
		limit = defaultHashLimit
	}
	return &hashSet{dir: dir, limit: max(limit, hashBlock)}
}

// add adds h. It may write a sorted run to the temporary file.
func (s *hashSet) add(h uint64) error {
	if s.sealed {
		return errors.New("hash set: add after seal")
	}
	if len(s.buf) == cap(s.buf) {
		// Grow as append would, but never past limit.
		grown := make([]uint64, len(s.buf), min(max(2*len(s.buf), 64), s.limit))
		copy(grown, s.buf)
		s.buf = grown
	}
	s.buf = append(s.buf, h)
	if len(s.buf) >= s.limit {
		return s.spill()
	}
	return nil
}

// spill sorts buf and writes it to the temporary file as a run.
func (s *hashSet) spill() error {
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, ".cleanup-stale-refs-*")
		if err != nil {
			return fmt.Errorf("hash set: %w", err)
		}
		// Unlinked at once: the file lives as long as the descriptor.
		if err := os.Remove(f.Name()); err != nil {
			f.Close()
			return fmt.Errorf("hash set: %w", err)
		}
		s.file = f
	}
	slices.Sort(s.buf)
	off := s.end()
	if err := writeHashes(s.file, off, s.buf); err != nil {
		return err
	}
	s.runs = append(s.runs, span{off, int64(len(s.buf))})
	s.buf = s.buf[:0]
	return nil
}

// end is the offset after the last run written.
func (s *hashSet) end() int64 {
	if len(s.runs) == 0 {
		return 0
	}
	last := s.runs[len(s.runs)-1]
	return last.off + last.n*8
}

// seal ends the filling: it sorts what is in memory, or merges the runs
// in the file into one sorted set without duplicates. It notes the hashes
// added more than once (repeated).
func (s *hashSet) seal() error {
	s.sealed = true
	s.repeated = map[uint64]bool{}
	if s.file == nil {
		slices.Sort(s.buf)
		s.buf = s.compact(s.buf)
		return nil
	}
	if len(s.buf) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.buf = nil
	return s.merge()
}

// compact drops duplicates from sorted hs, noting them as repeated.
func (s *hashSet) compact(hs []uint64) []uint64 {
	out := hs[:0]
	for i, h := range hs {
		if i > 0 && h == hs[i-1] {
			s.repeated[h] = true
			continue
		}
		out = append(out, h)
	}
	return out
}

// merge merges the sorted runs into one sorted set after them, and
// indexes its blocks.
func (s *hashSet) merge() error {
	h := make(runHeap, 0, len(s.runs))
	for _, r := range s.runs {
		rr := &runReader{r: bufio.NewReaderSize(io.NewSectionReader(s.file, r.off, r.n*8), 32<<10), left: r.n}
		if ok, err := rr.next(); err != nil {
			return err
		} else if ok {
			h = append(h, rr)
		}
	}
	heap.Init(&h)
	s.merged = span{off: s.end()}
	w := bufio.NewWriterSize(io.NewOffsetWriter(s.file, s.merged.off), 64<<10)
	var last uint64
	var b [8]byte
	for len(h) > 0 {
		rr := h[0]
		v := rr.cur
		if ok, err := rr.next(); err != nil {
			return err
		} else if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
		if s.merged.n > 0 && v == last {
			s.repeated[v] = true
			continue
		}
		if s.merged.n%hashBlock == 0 {
			s.index = append(s.index, v)
		}
		binary.LittleEndian.PutUint64(b[:], v)
		if _, err := w.Write(b[:]); err != nil {
			return fmt.Errorf("hash set: %w", err)
		}
		last = v
		s.merged.n++
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("hash set: %w", err)
	}
	s.block, s.raw = make([]uint64, hashBlock), make([]byte, hashBlock*8)
	return nil
}

// has reports whether h was added. The set must be sealed.
func (s *hashSet) has(h uint64) (bool, error) {
	if s.file == nil {
		_, found := slices.BinarySearch(s.buf, h)
		return found, nil
	}
	i, found := slices.BinarySearch(s.index, h)
	if found {
		return true, nil
	}
	if i == 0 {
		return false, nil
	}
	i-- // the block that would hold h
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(int64(hashBlock), s.merged.n-int64(i)*hashBlock)
	raw := s.raw[:n*8]
	if _, err := s.file.ReadAt(raw, s.merged.off+int64(i)*hashBlock*8); err != nil {
		return false, fmt.Errorf("hash set: %w", err)
	}
	for j := range n {
		s.block[j] = binary.LittleEndian.Uint64(raw[j*8:])
	}
	_, found = slices.BinarySearch(s.block[:n], h)
	return found, nil
}

// inMemory is how many hashes the set holds room for in memory now.
func (s *hashSet) inMemory() int { return cap(s.buf) + cap(s.index) + cap(s.block) }

// close releases the temporary file.
func (s *hashSet) close() error {
	s.buf, s.index = nil, nil
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}

func writeHashes(f *os.File, off int64, hs []uint64) error {
	w := bufio.NewWriterSize(io.NewOffsetWriter(f, off), 64<<10)
	var b [8]byte
	for _, h := range hs {
		binary.LittleEndian.PutUint64(b[:], h)
		if _, err := w.Write(b[:]); err != nil {
			return fmt.Errorf("hash set: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("hash set: %w", err)
	}
	return nil
}

// runReader reads one sorted run during the merge.
type runReader struct {
	r    *bufio.Reader
	left int64
	cur  uint64
}

func (rr *runReader) next() (bool, error) {
	if rr.left == 0 {
		return false, nil
	}
	var b [8]byte
	if _, err := io.ReadFull(rr.r, b[:]); err != nil {
		return false, fmt.Errorf("hash set: %w", err)
	}
	rr.cur = binary.LittleEndian.Uint64(b[:])
	rr.left--
	return true, nil
}

// runHeap orders the runs by their current hash.
type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return h[i].cur < h[j].cur }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
