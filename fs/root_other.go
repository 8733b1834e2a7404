//go:build !unix

package fs

import "errors"

// RemoveFile is not available here; Remove then falls back to Lstat and
// os.Root.Remove.
func (r *RootFs) RemoveFile(string) error { return errors.ErrUnsupported }
