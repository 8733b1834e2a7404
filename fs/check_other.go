//go:build !linux

package fs

// CheckRemove checks nothing where the kernel's view is not at hand; the
// removal itself still reports any failure.
func (r *RootFs) CheckRemove(string) error { return nil }

// CheckRemoveMany is CheckRemove for many names.
func (r *RootFs) CheckRemoveMany(clean []string) []error { return make([]error, len(clean)) }
