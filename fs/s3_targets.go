package fs

import (
	"context"
	"os"
	"strings"
	"sync"

	"github.com/minio/minio-go/v7"
)

// s3Workers is how many objects an S3Fs asks about at once: a HEAD
// request each, which a server answers in about a millisecond.
const s3Workers = 8

// maxS3Key is the longest object key S3 allows, in bytes: a longer name
// (a row the web app never wrote) is no object's, and the server would
// answer a question about it with an error, not with "not found".
const maxS3Key = 1024

// observe asks what object is at clean now: a HEAD request, under the
// file system's own context (see NewS3Fs).
func (s *S3Fs) observe(clean string) (seen, error) {
	if len(s.key(clean)) > maxS3Key {
		return seen{missing: true}, nil // no object has such a key
	}
	oi, err := s.client.StatObject(s.ctx, s.bucket, s.key(clean), minio.StatObjectOptions{})
	switch {
	case err == nil:
		return seen{etag: trimETag(oi.ETag), mtime: oi.LastModified.UnixNano(), size: oi.Size}, nil
	case notFound(err):
		return seen{missing: true}, nil
	}
	return seen{}, &os.PathError{Op: "stat", Path: clean, Err: err}
}

// trimETag is an ETag without the quotes that HTTP puts around it, as
// minio-go hands it out in one place and not in another.
func trimETag(etag string) string { return strings.Trim(etag, `"`) }

// inspect notes each object's ETag, s3Workers at a time. Nothing is
// refused: a key below the prefix can always be deleted (see
// CheckRemove).
func (s *S3Fs) inspect(ctx context.Context, clean []string) []Inspection {
	out := make([]Inspection, len(clean))
	s.each(ctx, len(clean), func(i int, err error) {
		var sn seen
		if err == nil {
			sn, err = s.observe(clean[i])
		}
		out[i] = Inspection{ID: sn.id(), Err: err}
	})
	return out
}

// removeTargets removes the objects that are still the targets' (see
// RemoveTargets): it asks each object's ETag, s3Workers at a time, then
// deletes those that match with DeleteObjects, up to 1000 a request.
//
// Between the question and the deletion, an object written again at the
// same key would be deleted: S3 has no way to make the deletion itself
// conditional that every server honours. The window is the time of one
// DeleteObjects request.
func (s *S3Fs) removeTargets(ctx context.Context, clean []Target) []Result {
	res := make([]Result, len(clean))
	s.each(ctx, len(clean), func(i int, err error) {
		var sn seen
		if err == nil {
			sn, err = s.observe(clean[i].Path)
		}
		switch {
		case err != nil:
			res[i] = Result{Outcome: Failed, Err: err}
		case sn.missing:
			res[i] = Result{Outcome: Gone}
		case !clean[i].ID.matches(sn):
			res[i] = Result{Outcome: Replaced}
		}
	})
	var at []int
	var keys []string
	for i, r := range res {
		if r.Outcome == 0 {
			at = append(at, i)
			keys = append(keys, clean[i].Path)
		}
	}
	if err := ctx.Err(); err != nil {
		for _, i := range at {
			res[i] = Result{Outcome: Failed, Err: err}
		}
		return res
	}
	for j, err := range s.deleteKeys(keys) {
		if err != nil {
			res[at[j]] = Result{Outcome: Failed, Err: err}
		} else {
			res[at[j]] = Result{Outcome: Removed}
		}
	}
	return res
}

// each calls fn for 0..n-1, s3Workers at a time. Once ctx ends, fn gets
// its error instead of a go: the requests in flight finish (under the
// file system's own context), no new one starts.
func (s *S3Fs) each(ctx context.Context, n int, fn func(i int, stop error)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(s3Workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i, ctx.Err())
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

var (
	_ targetRemover = (*S3Fs)(nil)
	_ observer      = (*S3Fs)(nil)
	_ inspector     = (*S3Fs)(nil)
)
