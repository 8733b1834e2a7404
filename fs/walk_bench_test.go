//go:build unix

package fs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkWalk reads MEDIA_ROOT's tree, with no walk kept from before,
// for one directory of 20k uploads: what a run whose candidates lie there
// pays (docs/performance.md, A run costs what its work costs).
func BenchmarkWalk(b *testing.B) {
	dir := b.TempDir()
	uploads := filepath.Join(dir, "stl", "2026", "11")
	if err := os.MkdirAll(uploads, 0o755); err != nil {
		b.Fatal(err)
	}
	const n = 20000
	for i := range n {
		if err := os.WriteFile(filepath.Join(uploads, fmt.Sprintf("model_%07d.stl", i)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	r, err := NewRootFs(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := r.walk(context.Background(), nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
}
