package fs

import (
	"errors"
	"fmt"
	"os"

	"github.com/minio/minio-go/v7"
)

// deleteKeys removes the objects clean, names already checked by
// CleanPath, with DeleteObjects: up to 1000 keys a request, instead of a
// request a key. It returns one error per name; a missing key is no error,
// as S3 reports it deleted.
//
// minio-go sends the request's Content-MD5, which S3 requires for
// DeleteObjects and some S3-compatible servers insist on.
func (s *S3Fs) deleteKeys(clean []string) []error {
	errs := make([]error, len(clean))
	at := make(map[string][]int, len(clean)) // key -> its indexes in clean
	objects := make(chan minio.ObjectInfo, len(clean))
	for i, c := range clean {
		// Checked again, cheaply: a key the caller forgot to clean
		// could mean another file to a server on a real file system.
		if cc, err := CleanPath(c); err != nil || cc != c {
			errs[i] = &os.PathError{Op: "remove", Path: c, Err: fmt.Errorf("%w: not a clean path", ErrUnsafePath)}
			continue
		}
		k := s.key(c)
		if at[k] == nil {
			objects <- minio.ObjectInfo{Key: k}
		}
		at[k] = append(at[k], i)
	}
	close(objects)
	if len(at) == 0 {
		return errs
	}
	var whole error // an error that is not about one key: a failed request
	done := make(map[string]bool, len(at))
	for r := range s.client.RemoveObjectsWithResult(s.ctx, s.bucket, objects, minio.RemoveObjectsOptions{}) {
		if r.ObjectName == "" {
			whole = r.Err
			continue
		}
		if _, ok := at[r.ObjectName]; !ok {
			continue // not a key we asked for; never happens with a sane server
		}
		done[r.ObjectName] = true
		if r.Err != nil && !notFound(r.Err) {
			for _, i := range at[r.ObjectName] {
				errs[i] = &os.PathError{Op: "remove", Path: clean[i], Err: r.Err}
			}
		}
	}
	// A key the server did not report on may still be there.
	if whole == nil {
		whole = errors.New("the server did not report on this key")
	}
	for k, is := range at {
		if !done[k] {
			for _, i := range is {
				errs[i] = &os.PathError{Op: "remove", Path: clean[i], Err: whole}
			}
		}
	}
	return errs
}
