package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/cleanup-stale/cleanup-stale/internal/trust"
)

// A run as a user who may not remove the uploads (a cron job as another
// user, a container with the wrong --user) would keep every row that has
// a file, and say so once per row: hundreds of lines that all mean one
// thing. keptLog holds back the lines of rows and files under MEDIA_ROOT
// kept because the system said "permission denied" (EACCES), and at the
// end of the run says it once per event, with the cause and its fix:
// "MEDIA_ROOT is not writable by uid 33; run as the web app's user" when
// the whole media root is another user's, the directories themselves when
// they are (one month's directory of another user is not MEDIA_ROOT's
// fault). An event met once keeps its own line. --json's failures still
// list each row. Other refusals (EPERM: an immutable directory) keep a
// line per row: each is its own case.

// keptLog is the state that a run's logger shares with the run.
type keptLog struct {
	next  slog.Handler
	media string // MEDIA_ROOT on a disk; "" for S3, whose refusals are not errnos

	mu     sync.Mutex
	groups []*keptGroup
}

// keptGroup is the held-back lines of one event (its level and message)
// with one errno.
type keptGroup struct {
	level slog.Level
	msg   string
	errno syscall.Errno
	first slog.Record
	count int
	dirs  []string // the files' directories, each once, in order
	seen  map[string]bool
}

// newRunLogger returns a run's logger, which logs to stderr as newLogger
// does, and what flushes its held-back lines.
func newRunLogger(stderr io.Writer, media string) (*slog.Logger, *keptLog) {
	k := &keptLog{next: newLogger(stderr).Handler(), media: media}
	return slog.New(keptHandler{k.next, k}), k
}

// plain is a logger that holds nothing back, for what is logged after
// the run's end (the health state file, the monitor).
func (k *keptLog) plain() *slog.Logger { return slog.New(k.next) }

// keptHandler is a slog.Handler that hands the lines of kept rows to its
// keptLog, and every other line to the handler it wraps.
type keptHandler struct {
	slog.Handler
	k *keptLog
}

func (h keptHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.k.hold(r) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h keptHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return keptHandler{h.Handler.WithAttrs(as), h.k}
}

func (h keptHandler) WithGroup(name string) slog.Handler {
	return keptHandler{h.Handler.WithGroup(name), h.k}
}

// hold keeps r back if it reports a file under MEDIA_ROOT (its "path",
// relative) that this user may not remove (its "error"); it reports
// whether it did.
func (k *keptLog) hold(r slog.Record) bool {
	if k == nil || k.media == "" || r.Level < slog.LevelWarn {
		return false
	}
	var file string
	var errno syscall.Errno
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "path":
			file = a.Value.String()
		case "error":
			errno = deniedErrno(a.Value)
		}
		return true
	})
	if file == "" || filepath.IsAbs(file) || errno == 0 {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var g *keptGroup
	for _, c := range k.groups {
		if c.level == r.Level && c.msg == r.Message && c.errno == errno {
			g = c
		}
	}
	if g == nil {
		g = &keptGroup{level: r.Level, msg: r.Message, errno: errno, first: r.Clone(), seen: map[string]bool{}}
		k.groups = append(k.groups, g)
	}
	g.count++
	if dir := path.Dir(file); !g.seen[dir] {
		g.seen[dir] = true
		g.dirs = append(g.dirs, dir)
	}
	return true
}

// deniedErrno is EACCES if v, a line's "error", is: an error that wraps
// it, or its text, as a Failure keeps it.
func deniedErrno(v slog.Value) syscall.Errno {
	if err, ok := v.Any().(error); ok {
		if errors.Is(err, syscall.EACCES) {
			return syscall.EACCES
		}
		return 0
	}
	if strings.HasSuffix(v.String(), ": "+syscall.EACCES.Error()) {
		return syscall.EACCES
	}
	return 0
}

// flush logs what was held back, one line per cause, and forgets it.
func (k *keptLog) flush(ctx context.Context) {
	if k == nil {
		return
	}
	k.mu.Lock()
	groups := k.groups
	k.groups = nil
	k.mu.Unlock()
	for _, g := range groups {
		if g.count == 1 {
			k.next.Handle(ctx, g.first)
			continue
		}
		r := slog.NewRecord(g.first.Time, g.level, k.cause(g), 0)
		r.AddAttrs(slog.String("event", g.msg), slog.Int("count", g.count),
			slog.String("error", g.errno.Error()), slog.String("details", "--json lists each one"))
		k.next.Handle(ctx, r)
	}
}

// maxDirsNamed bounds the directories a line names.
const maxDirsNamed = 3

// cause says why this user may not remove g's files, and what to do.
func (k *keptLog) cause(g *keptGroup) string {
	euid := os.Geteuid()
	root, err := os.OpenRoot(k.media)
	if err != nil {
		return fmt.Sprintf("uid %d may not remove these files under MEDIA_ROOT; run as the web app's user", euid)
	}
	defer root.Close()
	mediaOwner, _, _ := ownerOf(root, ".")
	sameOwner := mediaOwner >= 0 && mediaOwner != euid
	var described []string
	for i, dir := range g.dirs {
		uid, mode, ok := ownerOf(root, dir)
		if !ok || uid != mediaOwner {
			sameOwner = false
		}
		if i < maxDirsNamed {
			described = append(described, fmt.Sprintf("%s (uid %d, mode %04o)", dir, uid, mode))
		}
	}
	if sameOwner && trust.Writable(k.media) != nil {
		return fmt.Sprintf("MEDIA_ROOT is not writable by uid %d; run as the web app's user (uid %d owns MEDIA_ROOT %s)",
			euid, mediaOwner, k.media)
	}
	if more := len(g.dirs) - maxDirsNamed; more > 0 {
		described = append(described, fmt.Sprintf("and %d more", more))
	}
	noun := "directory"
	if len(g.dirs) > 1 {
		noun = "directories"
	}
	return fmt.Sprintf("uid %d may not remove files in %d %s under MEDIA_ROOT: %s; run as the web app's user, or give the %s to it",
		euid, len(g.dirs), noun, strings.Join(described, ", "), noun)
}

// ownerOf returns the owner and mode of dir in root; -1 where files have
// no owner.
func ownerOf(root *os.Root, dir string) (uid int, mode iofs.FileMode, ok bool) {
	fi, err := root.Stat(dir)
	if err != nil {
		return -1, 0, false
	}
	uid, ok = trust.Owner(fi)
	if !ok {
		uid = -1
	}
	return uid, fi.Mode().Perm(), ok
}
