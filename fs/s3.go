package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/spf13/afero"
)

// S3Fs is an afero.Fs over the objects below one prefix of an S3 bucket:
// MEDIA_ROOT when the web app keeps its uploads on S3-compatible storage
// with django-storages. A name is a path relative to the prefix, checked
// by CleanPath like any other, so no name reaches a key outside the prefix.
//
// S3 has no directories: a "directory" here is a prefix with objects below
// it, and it is listed one level at a time. The file system supports what
// the tool does (Stat, Open and Readdir, reading an object, Remove, and
// removing many objects in a few requests); everything that would create
// or change an object fails with errors.ErrUnsupported.
type S3Fs struct {
	ctx    context.Context
	client *minio.Client
	close  func()
	bucket string
	prefix string // "" or "site1/": every key starts with it
	// pageSize is how many keys one listing request asks for; 0 is the
	// server's default (1000 on S3). Tests lower it to see paging.
	pageSize int
}

// probeTimeout bounds NewS3Fs's check of the bucket, so that a server
// that never answers fails the run instead of hanging it through minio-go's
// retries.
const probeTimeout = 20 * time.Second

// NewS3Fs opens root, s3://BUCKET[/PREFIX], as a file system, reading the
// credentials, region and endpoint from the standard AWS_* variables
// through getenv (os.Getenv in the tool, a map in tests). It checks that
// the bucket exists, so that a typo or an unreachable server fails at once
// instead of every file failing later: such a failure is ErrNoMediaRoot,
// in one line that never holds the secret key.
//
// Every request of the file system runs under ctx: cancelling it abandons
// the requests in flight, and a removal that did not happen is reported as
// failed. Each request also has s3RequestTimeout, and is sent at most
// s3Attempts times.
func NewS3Fs(ctx context.Context, root string, getenv func(string) string) (*S3Fs, error) {
	bucket, prefix, err := parseS3Root(root)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoMediaRoot, root, err)
	}
	cfg, err := s3ConfigFrom(getenv)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrNoMediaRoot, root, cfg.redact(err.Error()))
	}
	fail := func(err error) error {
		return fmt.Errorf("%w: %s at %s: %s", ErrNoMediaRoot, root, cfg.endpointURL(), cfg.redact(oneLine(err.Error())))
	}
	transport, err := minio.DefaultTransport(cfg.secure)
	if err != nil {
		return nil, fail(err)
	}
	client, err := minio.New(cfg.endpoint, &minio.Options{
		Creds:        cfg.creds,
		Secure:       cfg.secure,
		Region:       cfg.region,
		BucketLookup: cfg.lookup,
		Transport:    deadlineTransport{transport, s3RequestTimeout},
		MaxRetries:   s3Attempts,
	})
	if err != nil {
		return nil, fail(err)
	}
	if err := probeBucket(ctx, client, bucket); err != nil {
		transport.CloseIdleConnections()
		if ctx.Err() != nil {
			// Cancelled, not refused: nothing is known about the bucket.
			return nil, fmt.Errorf("%s: %w", root, ctx.Err())
		}
		return nil, fail(err)
	}
	return &S3Fs{ctx: ctx, client: client, close: transport.CloseIdleConnections, bucket: bucket, prefix: prefix}, nil
}

// probeBucket fails unless the bucket exists and the credentials reach it.
// A HEAD request cannot say why it failed (it has no body), so a bucket
// that seems missing is listed once to learn the server's reason: "access
// denied" must not read "no such bucket".
func probeBucket(ctx context.Context, client *minio.Client, bucket string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	ok, err := client.BucketExists(ctx, bucket)
	if err != nil || ok {
		return err
	}
	for o := range client.ListObjectsIter(ctx, bucket, minio.ListObjectsOptions{MaxKeys: 1}) {
		switch {
		case o.Err == nil:
			return nil // it lists: it exists after all
		case minio.ToErrorResponse(o.Err).Code != minio.NoSuchBucket:
			return o.Err
		}
		break
	}
	return fmt.Errorf("bucket %q does not exist", bucket)
}

// oneLine keeps an error message on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Close releases idle connections to the server.
func (s *S3Fs) Close() error {
	s.close()
	return nil
}

// Name names the file system.
func (s *S3Fs) Name() string { return "S3Fs" }

// clean checks name as CleanPath does, but also accepts "." for the prefix
// itself, which can be statted, opened and listed, never removed, and a
// directory's name with a trailing slash.
func (s *S3Fs) clean(op, name string) (string, error) {
	if len(name) > 1 {
		name = strings.TrimRight(name, "/")
	}
	if !strings.HasPrefix(name, "/") && path.Clean(name) == "." && name != "" {
		return ".", nil
	}
	clean, err := CleanPath(name)
	if err != nil {
		return "", &os.PathError{Op: op, Path: name, Err: err}
	}
	return clean, nil
}

// key is the object key of clean, a name checked by CleanPath.
func (s *S3Fs) key(clean string) string { return s.prefix + clean }

// dirPrefix is the key prefix of the objects below clean, a name checked
// by CleanPath or ".".
func (s *S3Fs) dirPrefix(clean string) string {
	if clean == "." {
		return s.prefix
	}
	return s.prefix + clean + "/"
}

// Stat describes name: an object is a regular file with its size and
// LastModified, a prefix with objects below it a directory, anything else
// iofs.ErrNotExist. A key that is both, an object and a prefix, is the
// object.
func (s *S3Fs) Stat(name string) (iofs.FileInfo, error) {
	clean, err := s.clean("stat", name)
	if err != nil {
		return nil, err
	}
	if clean == "." {
		return s3Info{name: ".", dir: true}, nil
	}
	if len(s.key(clean)) > maxS3Key {
		return nil, &os.PathError{Op: "stat", Path: name, Err: iofs.ErrNotExist}
	}
	oi, err := s.client.StatObject(s.ctx, s.bucket, s.key(clean), minio.StatObjectOptions{})
	if err == nil {
		return s3Info{name: path.Base(clean), size: oi.Size, mod: oi.LastModified}, nil
	}
	if !notFound(err) {
		return nil, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	dir, err := s.hasBelow(clean)
	switch {
	case err != nil:
		return nil, &os.PathError{Op: "stat", Path: name, Err: err}
	case dir:
		return s3Info{name: path.Base(clean), dir: true}, nil
	}
	return nil, &os.PathError{Op: "stat", Path: name, Err: iofs.ErrNotExist}
}

// LstatIfPossible is Stat: S3 has no symlinks.
func (s *S3Fs) LstatIfPossible(name string) (iofs.FileInfo, bool, error) {
	fi, err := s.Stat(name)
	return fi, false, err
}

// hasBelow tells whether any object's key starts with clean's directory
// prefix, a single one-key listing.
func (s *S3Fs) hasBelow(clean string) (bool, error) {
	opts := minio.ListObjectsOptions{Prefix: s.dirPrefix(clean), MaxKeys: 1, FetchOwner: new(false)}
	for o := range s.client.ListObjectsIter(s.ctx, s.bucket, opts) {
		return o.Err == nil, o.Err
	}
	return false, nil
}

// notFound tells whether err is S3's "no such key".
func notFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == minio.NoSuchKey || r.StatusCode == http.StatusNotFound && r.Code != minio.NoSuchBucket
}

// Remove removes the object name. S3 answers a missing key with success,
// so a missing object is no error. Keys below name, were it a prefix, are
// never touched: a key names one object.
func (s *S3Fs) Remove(name string) error {
	clean, err := CleanPath(name)
	if err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	if err := s.client.RemoveObject(s.ctx, s.bucket, s.key(clean), minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

// CheckRemove finds nothing to refuse, and sends no request, so that
// checking a batch of thousands of keys costs nothing: a key below the
// prefix can always be deleted (CleanPath has kept the name inside it),
// and one that does not exist is already gone.
func (s *S3Fs) CheckRemove(string) error { return nil }

// Open opens a directory, to list it, or an object, to read it.
func (s *S3Fs) Open(name string) (afero.File, error) {
	fi, err := s.Stat(name)
	if err != nil {
		return nil, err
	}
	clean, _ := s.clean("open", name) // Stat checked it
	if fi.IsDir() {
		return s.openDir(name, clean, fi.(s3Info)), nil
	}
	obj, err := s.client.GetObject(s.ctx, s.bucket, s.key(clean), minio.GetObjectOptions{})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return &s3Object{Object: obj, name: name, info: fi.(s3Info)}, nil
}

// OpenFile opens name for reading; any other flag is unsupported.
func (s *S3Fs) OpenFile(name string, flag int, _ os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_TRUNC) != 0 {
		return nil, unsupported("open", name)
	}
	return s.Open(name)
}

// unsupported is the error of every operation that would create or change
// an object other than by removing it: the tool never does.
func unsupported(op, name string) error {
	return &os.PathError{Op: op, Path: name, Err: errors.ErrUnsupported}
}

// Create is unsupported.
func (s *S3Fs) Create(name string) (afero.File, error) { return nil, unsupported("create", name) }

// Mkdir is unsupported: S3 has no directories.
func (s *S3Fs) Mkdir(name string, _ os.FileMode) error { return unsupported("mkdir", name) }

// MkdirAll is unsupported: S3 has no directories.
func (s *S3Fs) MkdirAll(name string, _ os.FileMode) error { return unsupported("mkdir", name) }

// RemoveAll is unsupported: no upload is a directory.
func (s *S3Fs) RemoveAll(name string) error { return unsupported("removeall", name) }

// Rename is unsupported.
func (s *S3Fs) Rename(oldname, _ string) error { return unsupported("rename", oldname) }

// Chmod is unsupported.
func (s *S3Fs) Chmod(name string, _ os.FileMode) error { return unsupported("chmod", name) }

// Chown is unsupported.
func (s *S3Fs) Chown(name string, _, _ int) error { return unsupported("chown", name) }

// Chtimes is unsupported: S3 sets LastModified itself.
func (s *S3Fs) Chtimes(name string, _, _ time.Time) error { return unsupported("chtimes", name) }

var (
	_ afero.Fs      = (*S3Fs)(nil)
	_ afero.Lstater = (*S3Fs)(nil)
)
