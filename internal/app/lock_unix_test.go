//go:build unix

package app

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// holdJournalLock takes the lock on the journal at path that a run holds
// while it works, as a run in another process would.
func holdJournalLock(t *testing.T, path string) (release func()) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		t.Fatal(err)
	}
	return func() { f.Close() }
}
