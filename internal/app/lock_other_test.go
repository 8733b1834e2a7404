//go:build !unix

package app

import "testing"

func holdJournalLock(t *testing.T, _ string) func() {
	t.Skip("flock is unix's")
	return nil
}
