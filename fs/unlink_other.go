//go:build !unix

package fs

import (
	"errors"
	"os"
)

// unlinkat is not available here; RootFs.RemoveFile then fails and Remove
// falls back to Lstat and os.Root.Remove.
func unlinkat(*os.File, string) error { return errors.ErrUnsupported }
