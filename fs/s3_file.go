package fs

import (
	"context"
	"io"
	iofs "io/fs"
	"iter"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/spf13/afero"
)

// s3Info describes an object (a regular file) or a prefix (a directory,
// with no size or time of its own).
type s3Info struct {
	name string
	size int64
	mod  time.Time
	dir  bool
}

func (i s3Info) Name() string       { return i.name }
func (i s3Info) Size() int64        { return i.size }
func (i s3Info) ModTime() time.Time { return i.mod }
func (i s3Info) IsDir() bool        { return i.dir }
func (i s3Info) Sys() any           { return nil }

func (i s3Info) Mode() iofs.FileMode {
	if i.dir {
		return iofs.ModeDir | 0o755
	}
	return 0o644
}

// s3Dir is an opened directory: a listing of one level below a prefix
// (ListObjectsV2 with the delimiter "/"), read a page at a time as Readdir
// asks for more, so that a directory of a million uploads is never in
// memory at once.
type s3Dir struct {
	name   string // as opened
	info   s3Info
	prefix string // of the keys listed
	next   func() (minio.ObjectInfo, bool)
	stop   func()
}

func (s *S3Fs) openDir(name, clean string, info s3Info) *s3Dir {
	ctx, cancel := context.WithCancel(s.ctx)
	prefix := s.dirPrefix(clean)
	opts := minio.ListObjectsOptions{Prefix: prefix, MaxKeys: s.pageSize, FetchOwner: new(false)}
	next, stop := iter.Pull(s.client.ListObjectsIter(ctx, s.bucket, opts))
	return &s3Dir{name: name, info: info, prefix: prefix, next: next, stop: func() { stop(); cancel() }}
}

// Readdir returns the next n entries, as os.File does: with n > 0, at
// most n and io.EOF once none are left; with n <= 0, all that are left.
// An object is a regular file with its LastModified, a common prefix a
// directory.
func (d *s3Dir) Readdir(n int) ([]iofs.FileInfo, error) {
	if d.next == nil {
		return nil, &os.PathError{Op: "readdir", Path: d.name, Err: os.ErrClosed}
	}
	out := []iofs.FileInfo{}
	for n <= 0 || len(out) < n {
		o, ok := d.next()
		if !ok {
			break
		}
		if o.Err != nil {
			return out, &os.PathError{Op: "readdir", Path: d.name, Err: o.Err}
		}
		if fi, ok := d.entry(o); ok {
			out = append(out, fi)
		}
	}
	if n > 0 && len(out) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

// entry turns a listed key into a directory entry. It skips the prefix's
// own "folder" marker (a key ending in "/", made by consoles) and any name
// that is not one plain path element, such as the ".." of a key "a/../b":
// a caller joins the name to the directory's path.
func (d *s3Dir) entry(o minio.ObjectInfo) (iofs.FileInfo, bool) {
	name := strings.TrimPrefix(o.Key, d.prefix)
	dir := strings.HasSuffix(name, "/")
	name = strings.TrimSuffix(name, "/")
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return nil, false
	}
	if dir {
		return s3Info{name: name, dir: true}, true
	}
	return s3Info{name: name, size: o.Size, mod: o.LastModified}, true
}

// Readdirnames returns the names of the next n entries, as Readdir.
func (d *s3Dir) Readdirnames(n int) ([]string, error) {
	fis, err := d.Readdir(n)
	names := make([]string, len(fis))
	for i, fi := range fis {
		names[i] = fi.Name()
	}
	return names, err
}

// Close ends the listing.
func (d *s3Dir) Close() error {
	if d.next == nil {
		return &os.PathError{Op: "close", Path: d.name, Err: os.ErrClosed}
	}
	d.stop()
	d.next = nil
	return nil
}

func (d *s3Dir) Name() string                 { return d.name }
func (d *s3Dir) Stat() (iofs.FileInfo, error) { return d.info, nil }
func (d *s3Dir) Sync() error                  { return nil }

func (d *s3Dir) Read([]byte) (int, error) { return 0, d.isDir("read") }
func (d *s3Dir) ReadAt([]byte, int64) (int, error) {
	return 0, d.isDir("read")
}
func (d *s3Dir) Seek(int64, int) (int64, error) { return 0, d.isDir("seek") }
func (d *s3Dir) Write([]byte) (int, error)      { return 0, unsupported("write", d.name) }
func (d *s3Dir) WriteAt([]byte, int64) (int, error) {
	return 0, unsupported("write", d.name)
}
func (d *s3Dir) WriteString(string) (int, error) { return 0, unsupported("write", d.name) }
func (d *s3Dir) Truncate(int64) error            { return unsupported("truncate", d.name) }

func (d *s3Dir) isDir(op string) error {
	return &os.PathError{Op: op, Path: d.name, Err: syscall.EISDIR}
}

// s3Object is an object opened for reading: minio-go's Object, which
// fetches the data on the first read.
type s3Object struct {
	*minio.Object
	name string
	info s3Info
}

func (o *s3Object) Name() string                 { return o.name }
func (o *s3Object) Stat() (iofs.FileInfo, error) { return o.info, nil }
func (o *s3Object) Sync() error                  { return nil }

func (o *s3Object) Readdir(int) ([]iofs.FileInfo, error) {
	return nil, &os.PathError{Op: "readdir", Path: o.name, Err: syscall.ENOTDIR}
}
func (o *s3Object) Readdirnames(int) ([]string, error) {
	return nil, &os.PathError{Op: "readdir", Path: o.name, Err: syscall.ENOTDIR}
}
func (o *s3Object) Write([]byte) (int, error) { return 0, unsupported("write", o.name) }
func (o *s3Object) WriteAt([]byte, int64) (int, error) {
	return 0, unsupported("write", o.name)
}
func (o *s3Object) WriteString(string) (int, error) { return 0, unsupported("write", o.name) }
func (o *s3Object) Truncate(int64) error            { return unsupported("truncate", o.name) }

var (
	_ afero.File = (*s3Dir)(nil)
	_ afero.File = (*s3Object)(nil)
)
