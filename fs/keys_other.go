//go:build !unix

package fs

// newRootKeys keys by path text where inodes are not at hand.
func newRootKeys(*RootFs) Keys { return textKeys{} }
