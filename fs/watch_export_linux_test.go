package fs

import "testing"

// WatchSmallDirectories makes every directory worth a watch until the
// test ends, as a big one is (minWatchedBytes).
func WatchSmallDirectories(t testing.TB) {
	old := minWatchedBytes
	minWatchedBytes = 0
	t.Cleanup(func() { minWatchedBytes = old })
}
