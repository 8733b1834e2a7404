//go:build !unix

package trust

import iofs "io/fs"

// NoFollow is nothing where O_NOFOLLOW does not exist.
const NoFollow = 0

// IsLink is false where opens do not refuse links.
func IsLink(error) bool { return false }

type fileStat struct {
	uid   int
	nlink uint64
}

// statOf knows no owner or link count where files have no uid.
func statOf(iofs.FileInfo) (fileStat, bool) { return fileStat{}, false }

// Owner knows no owner where files have no uid.
func Owner(iofs.FileInfo) (int, bool) { return 0, false }
