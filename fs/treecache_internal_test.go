package fs

import (
	"testing"
	"time"
)

// TestWatchedNeedsNoMargin: the cache vouches for a directory whose
// change time is younger than the walk that noted it only if a watch saw
// that change time come from the tool's own removals (Aliaser.Watch): the
// removals come after the walk, so their change time always is.
func TestWatchedNeedsNoMargin(t *testing.T) {
	at := time.Now().UnixNano()
	c := &TreeCache{at: at, dirs: map[string]*cachedDir{
		"old":     {dev: 1, ino: 1, change: at - int64(3*time.Second)},
		"young":   {dev: 1, ino: 2, change: at + int64(time.Millisecond)},
		"watched": {dev: 1, ino: 3, change: at + int64(time.Millisecond), watched: true},
	}}
	for p, want := range map[string]bool{"old": true, "young": false, "watched": true} {
		d := c.dirs[p]
		if _, ok := c.vouches(p, d.dev, d.ino, d.change); ok != want {
			t.Errorf("vouches for %s = %v, want %v", p, ok, want)
		}
		if _, ok := c.vouches(p, d.dev, d.ino, d.change+1); ok {
			t.Errorf("vouches for %s changed since = true", p)
		}
	}
}
