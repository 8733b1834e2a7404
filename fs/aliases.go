package fs

import (
	"context"
	"sync/atomic"

	"github.com/spf13/afero"
)

// Aliases is what FindAliases learned of some files: every spelling by
// which a row could name each one.
type Aliases struct {
	// Names holds, for each file asked about, every clean path that
	// reaches it: its own, and others through a directory symlink, a file
	// symlink, a hard link or a bind mount inside the root. A row that
	// names any of them uses the file.
	Names [][]string
	// Unknown marks the files whose other names could not all be found
	// (too many, or a directory that could not be read): such a file must
	// be taken as used.
	Unknown []bool
	// Opaque lists symlinks whose target lies outside the tree, or cannot
	// be told, as paths with a trailing slash for a directory's: a row
	// below one of them may reach any file, and is resolved on its own
	// (Keys) to be compared.
	Opaque []string
}

// dirReads counts the directories that walks have read, for the tests of
// the tree cache.
var dirReads atomic.Int64

// maxSpellings bounds the names found for one file: a tree whose links
// give a file more than that is taken as using it.
const maxSpellings = 256

// Aliaser finds every name by which a row could reach a file (see
// FindAliases), from one reading of MEDIA_ROOT's tree: a run reads the
// tree once, and asks about each chunk of files against it. A symlink
// that an operator makes while the run goes on is seen by the next run.
type Aliaser struct {
	find func(ctx context.Context, names []string) (Aliases, error)
}

// NewAliaser reads the tree of fsys for its symlinks, bind mounts and
// directories, a few system calls per directory; cache, if not nil,
// spares it the directories that have not changed since the walk that
// filled it, and then holds what this walk found (see TreeCache). Where
// names have no aliases (S3, memory), it reads nothing.
func NewAliaser(ctx context.Context, fsys afero.Fs, cache *TreeCache) (*Aliaser, error) {
	if f, ok := beneath[aliaserMaker](fsys); ok {
		return f.newAliaser(ctx, cache)
	}
	return &Aliaser{find: func(_ context.Context, names []string) (Aliases, error) {
		a := Aliases{Names: make([][]string, len(names)), Unknown: make([]bool, len(names))}
		for i, n := range names {
			a.Names[i] = []string{n}
		}
		return a, nil
	}}, nil
}

// Find spells each file at names (clean paths) every way that a row could
// name it: its own name, and those through the tree's directory and file
// symlinks, hard links and bind mounts. Files with more than one link
// make it look through the tree for their other links.
func (a *Aliaser) Find(ctx context.Context, names []string) (Aliases, error) {
	return a.find(ctx, names)
}

// FindAliases is NewAliaser, then Find: every name by which a row could
// reach each file at names (clean paths), so that the question "does a row
// still use this file?" can be asked of the database by spelling alone,
// in one scan, instead of resolving every row's file on the disk (a
// system call per row of the table).
func FindAliases(ctx context.Context, fsys afero.Fs, names []string, cache *TreeCache) (Aliases, error) {
	a, err := NewAliaser(ctx, fsys, cache)
	if err != nil {
		return Aliases{}, err
	}
	return a.Find(ctx, names)
}

type aliaserMaker interface {
	newAliaser(ctx context.Context, cache *TreeCache) (*Aliaser, error)
}
