//go:build !unix

package app

import (
	"runtime"
	"testing"
)

// mkfifo skips: there are no FIFOs in the file system here.
func mkfifo(t *testing.T, _ string) {
	t.Helper()
	t.Skip("no FIFOs on " + runtime.GOOS)
}
