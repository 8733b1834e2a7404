//go:build !linux

package fs

// Watch is a no-op where inotify is missing: a directory that the tool's
// own removals changed is read again by the next walk.
type Watch struct{}

// Watchable is false: nothing is watched here.
func Watchable(string) bool { return false }

func (r *RootFs) watch(*TreeCache, []string) *Watch { return nil }

func (w *Watch) settle() {}
