package fs

import (
	"errors"
	"io"

	"github.com/spf13/afero"
)

// RootID names the media root itself, not the spelling that reached it:
// for a RootFs, its directory's inode and birth time (or, where the birth
// time is not at hand, its device and inode), so that the same directory
// through a symlink or another mount of the same disk has the same ID,
// while the empty mount point of a disk that is not mounted has another;
// for an S3Fs, the bucket and the clean prefix. "" where the file system
// cannot tell (an afero.MemMapFs): callers then compare names.
func RootID(fsys afero.Fs) (string, error) {
	if r, ok := beneath[rootIdentifier](fsys); ok {
		return r.rootID()
	}
	return "", nil
}

type rootIdentifier interface {
	rootID() (string, error)
}

// rootID is the bucket and the clean prefix.
func (s *S3Fs) rootID() (string, error) { return "s3:" + s.bucket + "/" + s.prefix, nil }

// IsEmpty reports whether the root of fsys holds nothing at all: what an
// unmounted disk's mount point looks like.
func IsEmpty(fsys afero.Fs) (bool, error) {
	d, err := fsys.Open(".")
	if err != nil {
		return false, err
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}
