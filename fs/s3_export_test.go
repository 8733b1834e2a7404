package fs

import "time"

// SetS3PageSize makes s ask for n keys a listing request, so that a test
// sees paging with a few dozen objects instead of thousands.
func SetS3PageSize(s *S3Fs, n int) { s.pageSize = n }

// S3Attempts is how many times a request is sent at most.
const S3Attempts = s3Attempts

// SetS3RequestTimeout makes the file systems opened from now on give each
// request d, and returns a function that restores the default.
func SetS3RequestTimeout(d time.Duration) (restore func()) {
	old := s3RequestTimeout
	s3RequestTimeout = d
	return func() { s3RequestTimeout = old }
}

// DeleteKeys is s.deleteKeys, which must refuse a name that is not clean
// even when a caller forgot to clean it.
func DeleteKeys(s *S3Fs, clean []string) []error { return s.deleteKeys(clean) }

// DirReads is how many directories walks have read so far.
func DirReads() int64 { return dirReads.Load() }

// SetTreeCacheClock makes c tell the time of its walks by now.
func SetTreeCacheClock(c *TreeCache, now func() time.Time) { c.now = now }
