//go:build !unix

package app

import "testing"

func holdsFlock(t *testing.T, _ int, _ string) bool {
	t.Skip("/proc/locks is Linux's")
	return false
}
