//go:build !unix

package fs

// Without unix's directory handles, a RootFs removes a target through
// RemoveTargets' general path: os.Root's Lstat identifies the file (by its
// modification time and size), and os.Root's Remove removes it.
