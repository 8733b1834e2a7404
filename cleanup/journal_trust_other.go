//go:build !unix

package cleanup

import iofs "io/fs"

// openNoFollow is nothing where O_NOFOLLOW does not exist.
const openNoFollow = 0

func isLink(error) bool { return false }

// fileOwner knows no owner where files have no uid.
func fileOwner(iofs.FileInfo) (int, bool) { return 0, false }
