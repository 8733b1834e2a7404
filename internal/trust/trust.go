// Package trust decides whether cleanup-stale may believe the files it
// keeps for itself between runs, the pending-removal journal and the
// health state file, and the directory it keeps them in (docs/journal.md,
// and docs/operating.md's Monitoring).
//
// A journal tells a run which files to remove, and a state file tells
// health whether the cleanup works: whoever can write either can make the
// tool delete, or lie. So each is believed only as far as the database
// is: a regular file, never reached through a symbolic link, never a
// FIFO (which would hang the run), owned by the user who runs the tool,
// writable by no one else, and with exactly one name (a hard link planted
// at its name would have the tool write through to another file). A
// state directory, which holds nothing but the tool's own files, must be
// this user's (or root's) and writable by no one else, unless it is
// sticky and this user's.
//
// The checks look at what was opened (fstat of the descriptor), never at
// a name that could be swapped between a check and an open. Every refusal
// names the file, the problem and the way out.
package trust

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"

	"github.com/spf13/afero"
)

// ErrUntrusted marks every refusal of this package, so that callers can
// tell "not to be believed" from "could not be read".
var ErrUntrusted = errors.New("not trusted")

// refusal is a refusal's message; it unwraps to ErrUntrusted without
// repeating its text.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }
func (r *refusal) Unwrap() error { return ErrUntrusted }

func refuse(format string, args ...any) error {
	return &refusal{fmt.Sprintf(format, args...)}
}

// OpenFile opens name in fsys with flag, adding NoFollow, and checks the
// file it opened (see Check). A symbolic link at name is refused, never
// followed; a FIFO is opened without waiting for a writer, then refused.
// Errors other than refusals (a missing file, say) are the open's own.
func OpenFile(fsys afero.Fs, name string, flag int, perm os.FileMode) (afero.File, error) {
	f, err := fsys.OpenFile(name, flag|NoFollow, perm)
	if err != nil {
		if IsLink(err) {
			return nil, LinkRefused(name)
		}
		return nil, err
	}
	if err := Check(f, name); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// LinkRefused is the refusal of a symbolic link at name, for callers that
// open name themselves (see IsLink).
func LinkRefused(name string) error {
	return refuse("%s is a symbolic link, not a regular file; refusing to follow it: remove it (rm %s)", name, name)
}

// Check checks the open file f, known as name: a regular file, owned by
// this user, writable by no one else, with one link. On a file system
// that keeps no owners or links (in memory, Windows), those two checks
// are left out.
func Check(f afero.File, name string) error {
	fi, err := f.Stat() // fstat(2) of the descriptor, for a file on disk
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return checkInfo(fi, name)
}

func checkInfo(fi iofs.FileInfo, name string) error {
	if !fi.Mode().IsRegular() {
		return refuse("%s is not a regular file (%s): remove it (rm %s)", name, typeName(fi.Mode()), name)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return refuse("%s is writable by others (mode %04o); only its owner may write it: check what it says, then chmod 0600 %s",
			name, perm, name)
	}
	st, ok := statOf(fi)
	if !ok {
		return nil
	}
	if euid := os.Geteuid(); st.uid != euid {
		return refuse("%s belongs to user %d, not to this user (%d): run as user %d, or check what it says and chown %d %s",
			name, st.uid, euid, st.uid, euid, name)
	}
	if st.nlink != 1 {
		return refuse("%s has %d links, want 1: writing it would change another name's file too; "+
			"remove the other names (find / -xdev -samefile %s)", name, st.nlink, name)
	}
	return nil
}

// typeName names a file's type for a message: "directory", "named pipe".
func typeName(m iofs.FileMode) string {
	switch t := m.Type(); {
	case t&iofs.ModeDir != 0:
		return "a directory"
	case t&iofs.ModeNamedPipe != 0:
		return "a named pipe"
	case t&iofs.ModeSymlink != 0:
		return "a symbolic link"
	case t&iofs.ModeSocket != 0:
		return "a socket"
	case t&iofs.ModeDevice != 0:
		return "a device"
	default:
		return t.String()
	}
}
