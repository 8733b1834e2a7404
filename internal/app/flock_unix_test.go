//go:build unix

package app

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// holdsFlock reports whether process pid holds the flock(2) lock of the
// file at path, as /proc/locks lists it. A run opens its journal before it
// locks it, so an open file is not yet a held lock; and a probe that tried
// the lock itself could, for an instant, make the run it watches find its
// journal busy. Reading /proc/locks takes nothing. The file is matched by
// its inode number alone: a run holds no other flock, and on a stacked
// file system (overlayfs) the device that stat reports may not be the one
// that /proc/locks prints.
func holdsFlock(t *testing.T, pid int, path string) bool {
	t.Helper()
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false // not created yet
	}
	if err != nil {
		t.Fatal(err)
	}
	ino := strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10)
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		t.Fatalf("the journal's lock cannot be observed without /proc/locks: %v", err)
	}
	for _, line := range strings.Split(string(locks), "\n") {
		// "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF"; a waiter's
		// line reads "1: -> FLOCK ..." and holds nothing.
		f := strings.Fields(line)
		if len(f) < 6 || f[1] != "FLOCK" || f[3] != "WRITE" || f[4] != strconv.Itoa(pid) {
			continue
		}
		if i := strings.LastIndexByte(f[5], ':'); i >= 0 && f[5][i+1:] == ino {
			return true
		}
	}
	return false
}
