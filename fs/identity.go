package fs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FileID is what a file was when the tool took note of it: the identity
// that a removal checks (RemoveTargets), so that a file goes only if it is
// still the file that its row named when the row was deleted. A name is
// not enough: the web app gives a freed name to the next upload of the same
// name (model.stl), and django-storages writes S3 keys again in place.
//
//   - On a disk, a file is its inode and its birth time (statx's btime),
//     which a reused inode number cannot fake; where the birth time is not
//     at hand, the device, the inode and the change time (which a chmod
//     also moves: the file then stays, the safe way to be wrong).
//   - On S3, an object is its ETag, which every PUT sets anew.
//   - Elsewhere (an afero.MemMapFs in a test), its modification time and
//     size.
//   - A name with nothing at it is "missing": a file there later is not
//     the one that was noted.
//
// The zero FileID is no identity at all; nothing matches it, so nothing is
// removed by it.
type FileID struct {
	kind     idKind
	dev, ino uint64
	t        int64 // ns since 1970: birth or change time, mtime, or a cut-off
	birth    bool  // t is a birth time
	size     int64
	etag     string
}

type idKind uint8

const (
	idNone idKind = iota
	idMissing
	idInode
	idObject
	idStamp
	idBefore
)

// Missing is the identity of a name with nothing at it.
var Missing = FileID{kind: idMissing}

// BornBefore is the identity of any file at a name that came into being no
// later than t: what a journal entry written without an identity (by an
// earlier version) proves. A file born after t (a new upload at a freed
// name) does not match.
func BornBefore(t time.Time) FileID { return FileID{kind: idBefore, t: t.UnixNano()} }

// IsZero reports whether id is no identity at all.
func (id FileID) IsZero() bool { return id.kind == idNone }

// IsMissing reports whether id says that nothing was at the name.
func (id FileID) IsMissing() bool { return id.kind == idMissing }

// String is id's text form, which ParseFileID reads back: what the journal
// writes after each file.
func (id FileID) String() string {
	switch id.kind {
	case idMissing:
		return "missing"
	case idInode:
		if id.birth {
			return fmt.Sprintf("inode:%d:%d:b%d", id.dev, id.ino, id.t)
		}
		return fmt.Sprintf("inode:%d:%d:c%d", id.dev, id.ino, id.t)
	case idObject:
		return "etag:" + strconv.Quote(id.etag)
	case idStamp:
		return fmt.Sprintf("stamp:%d:%d", id.t, id.size)
	case idBefore:
		return fmt.Sprintf("before:%d", id.t)
	}
	return "none"
}

// ParseFileID reads what String wrote. Anything else is an error: the
// journal that holds it is a trust boundary.
func ParseFileID(s string) (FileID, error) {
	bad := func() (FileID, error) { return FileID{}, fmt.Errorf("not a file identity: %.60q", s) }
	kind, rest, _ := strings.Cut(s, ":")
	switch kind {
	case "missing":
		if s != "missing" {
			return bad()
		}
		return Missing, nil
	case "etag":
		etag, err := strconv.Unquote(rest)
		if err != nil || etag == "" {
			return bad()
		}
		return FileID{kind: idObject, etag: etag}, nil
	case "inode":
		f := strings.Split(rest, ":")
		if len(f) != 3 || len(f[2]) < 2 || f[2][0] != 'b' && f[2][0] != 'c' {
			return bad()
		}
		dev, err1 := strconv.ParseUint(f[0], 10, 64)
		ino, err2 := strconv.ParseUint(f[1], 10, 64)
		t, err3 := strconv.ParseInt(f[2][1:], 10, 64)
		if errors.Join(err1, err2, err3) != nil {
			return bad()
		}
		return FileID{kind: idInode, dev: dev, ino: ino, t: t, birth: f[2][0] == 'b'}, nil
	case "before":
		t, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return bad()
		}
		return FileID{kind: idBefore, t: t}, nil
	case "stamp":
		f := strings.Split(rest, ":")
		if len(f) != 2 {
			return bad()
		}
		t, err1 := strconv.ParseInt(f[0], 10, 64)
		size, err2 := strconv.ParseInt(f[1], 10, 64)
		if errors.Join(err1, err2) != nil || size < 0 {
			return bad()
		}
		return FileID{kind: idStamp, t: t, size: size}, nil
	}
	return bad()
}

// seen is what a file system sees at a name now, to compare with a FileID.
type seen struct {
	missing  bool
	dir      bool // a directory (or, on S3, a prefix)
	link     bool // a symlink, seen as itself
	dev, ino uint64
	birth    int64 // when hasBirth
	hasBirth bool
	change   int64
	mtime    int64
	size     int64
	etag     string
}

// id is the identity of what s saw, the best that the file system tells.
func (s seen) id() FileID {
	switch {
	case s.missing:
		return Missing
	case s.etag != "":
		return FileID{kind: idObject, etag: s.etag}
	case s.ino != 0 && s.hasBirth:
		return FileID{kind: idInode, dev: s.dev, ino: s.ino, t: s.birth, birth: true}
	case s.ino != 0:
		return FileID{kind: idInode, dev: s.dev, ino: s.ino, t: s.change}
	}
	return FileID{kind: idStamp, t: s.mtime, size: s.size}
}

// matches reports whether what s saw is the file that id describes.
//
// A birth time and an inode number identify a file on their own: the
// device number is left out then, since it may change when a network or
// btrfs file system is mounted again, while the file stays the same.
func (id FileID) matches(s seen) bool {
	switch id.kind {
	case idMissing:
		return s.missing
	case idInode:
		if s.missing || s.ino != id.ino {
			return false
		}
		if id.birth {
			return s.hasBirth && s.birth == id.t
		}
		return s.dev == id.dev && s.change == id.t
	case idObject:
		return !s.missing && s.etag == id.etag
	case idStamp:
		return !s.missing && s.mtime == id.t && s.size == id.size
	case idBefore:
		if s.missing {
			return false
		}
		born := s.mtime // S3's LastModified, or a file's mtime
		switch {
		case s.hasBirth:
			born = s.birth
		case s.ino != 0:
			born = s.change // never before the file's birth: a later chmod only keeps it
		}
		return born <= id.t
	}
	return false
}
