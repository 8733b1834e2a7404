//go:build !linux

package cleanup

import "time"

// bootClock has no boot id to give here: a grace is measured on the wall
// clock alone (see docs/guarantees.md).
func bootClock() (string, time.Duration) { return "", 0 }
