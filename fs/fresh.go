package fs

import (
	iofs "io/fs"
	"time"
)

// Fresh reports whether the file that fi describes may be an upload whose
// row the web app has not committed yet: whether it was modified less
// than grace before now. The sweep spares such files.
//
// A modification time can be set to anything (touch -d 2030), and one
// far in the future must not spare an orphan for ever. A time ahead of
// now by less than grace still counts as fresh: the clock of the server
// that stamped it (an NFS server, an S3 endpoint) may run ahead of this
// host's.
func Fresh(fi iofs.FileInfo, now time.Time, grace time.Duration) bool {
	d := now.Sub(fi.ModTime())
	return d < grace && d > -grace
}
