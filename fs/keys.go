package fs

import (
	"path"

	"github.com/spf13/afero"
)

// Keys names files by what they are, not by how a row spells them: two
// names that reach the same file get the same key. On a disk, a directory
// symlink inside MEDIA_ROOT (alias -> stl/2026/11) gives one file two
// spellings, and a row may name a symlink to another row's file. Asking
// "does another row use this file?" by comparing path text would then say
// no, and remove a live row's file; comparing keys says yes.
//
// On a disk a key is the file's device and inode, after following a final
// symlink; for a missing file, its directory's device and
// inode and its name. Elsewhere (S3, memory), where no name aliases
// another, it is the clean path.
//
// A Keys keeps directories open to be fast over many names: it is for one
// goroutine and one pass (a scan of the table, a batch), after which
// Close releases them.
type Keys interface {
	Key(name string) string
	Close() error
}

// NewKeys returns the Keys of fsys, or of the RootFs that it wraps (see
// Unwrapper).
func NewKeys(fsys afero.Fs) Keys {
	if r, ok := beneath[*RootFs](fsys); ok {
		return newRootKeys(r)
	}
	return textKeys{}
}

// textKeys keys a file by its clean path.
type textKeys struct{}

func (textKeys) Key(name string) string { return "t:" + path.Clean(name) }
func (textKeys) Close() error           { return nil }
