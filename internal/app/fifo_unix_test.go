//go:build unix

package app

import (
	"syscall"
	"testing"
)

// mkfifo makes a FIFO at path, for the tests that put one where a file
// belongs. It is a unix call; elsewhere the test skips (fifo_other_test.go),
// so that `GOOS=windows go vet ./...` stays clean.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}
