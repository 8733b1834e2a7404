// Package fs removes uploaded files, and never anything outside MEDIA_ROOT.
//
// Every file system here is an afero.Fs: RootFs confines a real directory
// with the standard library's os.Root, afero.MemMapFs stands in for it in
// tests, and ReadOnly wraps either one for dry runs. The path rules live in
// CleanPath and the removal rules in Remove, so that they hold whichever
// file system is underneath.
package fs

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// ErrUnsafePath means a row's file path could reach outside MEDIA_ROOT, or
// names something that the tool must never remove.
var ErrUnsafePath = errors.New("unsafe path")

// CleanPath checks a path read from the database and returns it cleaned,
// relative to MEDIA_ROOT. It refuses, with ErrUnsafePath, anything that is
// not a plain relative path inside MEDIA_ROOT: absolute paths, any ".."
// that climbs out, NUL bytes, a trailing slash (a file's name never has
// one), and MEDIA_ROOT itself.
//
// This is the lexical half of confinement. The other half, symlinks, needs
// the real disk and is RootFs's job.
func CleanPath(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("%w: empty path", ErrUnsafePath)
	case strings.ContainsRune(name, 0):
		return "", fmt.Errorf("%w: NUL byte in path", ErrUnsafePath)
	case strings.HasPrefix(name, "/"):
		return "", fmt.Errorf("%w: absolute path", ErrUnsafePath)
	case strings.HasSuffix(name, "/"):
		return "", fmt.Errorf("%w: ends in a slash, so names a directory", ErrUnsafePath)
	}
	clean := path.Clean(name)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%w: outside MEDIA_ROOT", ErrUnsafePath)
	}
	return clean, nil
}
