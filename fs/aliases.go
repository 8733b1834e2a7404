package fs

import (
	"context"

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

// maxSpellings bounds the names found for one file: a tree whose links
// give a file more than that is taken as using it.
const maxSpellings = 256

// FindAliases finds every name by which a row could reach each file at
// names (clean paths), so that the question "does a row still use this
// file?" can be asked of the database by spelling alone, in one scan,
// instead of resolving every row's file on the disk (a system call per
// row of the table).
//
// On a disk (RootFs) it reads the tree's directories, a few system calls
// per directory, for the symlinks, the hard links and the bind mounts that
// give a file more than one name. Elsewhere (S3, memory) a name is its
// only spelling.
func FindAliases(ctx context.Context, fsys afero.Fs, names []string) (Aliases, error) {
	if f, ok := beneath[aliasFinder](fsys); ok {
		return f.findAliases(ctx, names)
	}
	a := Aliases{Names: make([][]string, len(names)), Unknown: make([]bool, len(names))}
	for i, n := range names {
		a.Names[i] = []string{n}
	}
	return a, nil
}

type aliasFinder interface {
	findAliases(ctx context.Context, names []string) (Aliases, error)
}
