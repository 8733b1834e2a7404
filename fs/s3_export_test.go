package fs

// SetS3PageSize makes s ask for n keys a listing request, so that a test
// sees paging with a few dozen objects instead of thousands.
func SetS3PageSize(s *S3Fs, n int) { s.pageSize = n }
