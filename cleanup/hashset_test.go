package cleanup

import (
	"math/rand/v2"
	"os"
	"testing"
)

// TestHashSet: whether it stays in memory or spills sorted runs to a
// temporary file, the set answers exactly as a map does, for hashes added
// and hashes not added, notes exactly the hashes added more than once,
// holds no more than its limit in memory, and leaves no file behind.
func TestHashSet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		limit int
	}{
		{"empty", 0, 1000},
		{"in memory", 900, 1000},
		{"one run and a rest", 1500, 1000},
		{"many runs", 20000, 300},
		{"exactly full runs", 2048, 256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(1, uint64(tc.n)))
			s := newHashSet(dir, tc.limit)
			want := map[uint64]int{}
			peak := 0
			for range tc.n {
				// Small values repeat often; large ones rarely.
				h := rng.Uint64()
				if rng.IntN(10) == 0 {
					h = uint64(rng.IntN(50))
				}
				want[h]++
				if err := s.add(h); err != nil {
					t.Fatal(err)
				}
				peak = max(peak, s.inMemory())
			}
			if err := s.seal(); err != nil {
				t.Fatal(err)
			}
			defer s.close()
			limit := max(tc.limit, hashBlock)
			if peak > limit || s.inMemory() > max(limit, len(want)/hashBlock+2*hashBlock) {
				t.Errorf("held %d hashes in memory at most, %d after seal; limit %d", peak, s.inMemory(), limit)
			}
			if spilled := s.file != nil; spilled != (tc.n >= limit) {
				t.Errorf("spilled = %v for %d hashes, limit %d", spilled, tc.n, limit)
			}
			for h, n := range want {
				if ok, err := s.has(h); err != nil || !ok {
					t.Fatalf("has(%d) = %v, %v after adding it %d times", h, ok, err, n)
				}
				if s.repeated[h] != (n > 1) {
					t.Fatalf("repeated[%d] = %v, added %d times", h, s.repeated[h], n)
				}
			}
			if len(s.repeated) > len(want) {
				t.Errorf("%d repeated, of %d distinct", len(s.repeated), len(want))
			}
			for range 5000 {
				h := rng.Uint64()
				if ok, err := s.has(h); err != nil || ok != (want[h] > 0) {
					t.Fatalf("has(%d) = %v, %v; want %v", h, ok, err, want[h] > 0)
				}
			}
			for _, h := range []uint64{0, 1, ^uint64(0)} {
				if ok, _ := s.has(h); ok != (want[h] > 0) {
					t.Errorf("has(%d) = %v at the edge", h, ok)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left in the directory: %v", entries)
			}
		})
	}
}
