//go:build unix && !aix

// AIX is left out: golang.org/x/sys/unix has no AT_EACCESS there (and the
// command does not build there); Check then falls back to Lstat, as on
// Windows.

package fs

import (
	"context"
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// CheckRemove tells whether unlinking clean would fail now, as far as the
// kernel lets a process see without trying. A missing file is fine. The
// path must not be a directory or a symlink to one, nor lead through a
// symlink out of the root; the directory must be writable and searchable
// by this user (faccessat, which also refuses an immutable directory or a
// read-only mount); and neither the directory nor the file may be
// immutable or append-only, which even root cannot unlink from (see
// locked). It is the same check on every unix, so that a row whose file
// cannot go keeps its row on macOS and the BSDs as on Linux.
func (r *RootFs) CheckRemove(clean string) error { return r.CheckRemoveMany([]string{clean})[0] }

// CheckRemoveMany is CheckRemove for many names, opening each directory
// once for the call.
func (r *RootFs) CheckRemoveMany(clean []string) []error {
	errs := make([]error, len(clean))
	for i, in := range r.inspect(context.Background(), clean) {
		errs[i] = in.Err
	}
	return errs
}

// inspect notes each file's identity and checks its removal (see
// CheckRemove) in one pass, opening each directory once for the call.
func (r *RootFs) inspect(ctx context.Context, clean []string) []Inspection {
	c := newDirs(r.root)
	defer c.close()
	out := make([]Inspection, len(clean))
	for i, name := range clean {
		if err := ctx.Err(); err != nil {
			out[i] = Inspection{Err: err}
			continue
		}
		out[i].ID = Missing // no directory or no file: gone already
		err := c.in(name, func(d *dir, base string) error {
			s, err := statAt(d.fd, base)
			if err != nil {
				return &os.PathError{Op: "lstat", Path: name, Err: err}
			}
			out[i].ID = s.id()
			if s.missing {
				return nil
			}
			return checkRemove(d.fd, name, base, s)
		})
		if !errors.Is(err, os.ErrNotExist) {
			out[i].Err = err
		}
	}
	return out
}

func checkRemove(dirfd int, name, base string, s seen) error {
	if err := refuseNonFile(dirfd, name, base, s); err != nil {
		return err
	}
	if err := unix.Faccessat(dirfd, ".", unix.W_OK|unix.X_OK, unix.AT_EACCESS); err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	for _, entry := range []string{"", base} {
		isLocked, err := locked(dirfd, entry)
		if err != nil {
			return &os.PathError{Op: "remove", Path: name, Err: err}
		}
		if isLocked {
			return &os.PathError{Op: "remove", Path: name, Err: unix.EPERM}
		}
	}
	return nil
}

var (
	_ manyChecker = (*RootFs)(nil)
	_ inspector   = (*RootFs)(nil)
)
