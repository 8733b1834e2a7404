package fs

import (
	"io"
	"os"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watchMask is what the kernel reports of a watched directory: every
// change of its entries, of its attributes, of itself.
const watchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// maxWatched bounds the directories that one watch holds (a descriptor
// each, until Settle); the others are read again by the next walk, as
// without a watch.
const maxWatched = 64

// localFileSystems are the file systems whose every change, made from
// any process of this host or any container on it, the kernel reports to
// inotify, and whose change times are as fine as a nanosecond. A network
// file system (NFS, SMB), FUSE, a virtio share or overlayfs may change
// beneath the watch without a word: their directories are not watched.
var localFileSystems = map[uint32]bool{
	unix.EXT4_SUPER_MAGIC:  true, // also ext2 and ext3, which share it
	unix.XFS_SUPER_MAGIC:   true,
	unix.BTRFS_SUPER_MAGIC: true,
	unix.TMPFS_MAGIC:       true,
	unix.F2FS_SUPER_MAGIC:  true,
}

// Watchable reports whether the directories at and below dir can be
// watched (see Aliaser.Watch): whether dir is on one of localFileSystems.
func Watchable(dir string) bool {
	var sfs unix.Statfs_t
	return unix.Statfs(dir, &sfs) == nil && localFileSystems[uint32(sfs.Type)]
}

// dirWatch is one directory being watched: its handle, the inotify watch
// on it, and its entry in the tree cache.
type dirWatch struct {
	f       *os.File
	wd      int32
	entry   *cachedDir
	spoiled bool // something besides removals of files happened in it
}

// Watch notes the removals that the run makes in some directories of the
// tree, so that the next walk need not read them again (see
// Aliaser.Watch).
type Watch struct {
	fd   int
	dirs map[int32]*dirWatch // by watch descriptor
}

// minWatchedBytes is how much directory data (st_size: about 40 bytes an
// entry on ext4, 20 on tmpfs) a chunk's directories must hold for a watch
// to pay. Reading them again costs the next walk about 0.4 µs an entry;
// an inotify instance costs its run the kernel's teardown when it is
// closed (a grace period of the kernel's SRCU, 0-20 ms here). Twelve
// thousand uploads or so (a month of a big install, a directory of them
// all) are worth it; the few hundred of a small install's month are not.
var minWatchedBytes int64 = 512 << 10

// watch starts watching the directories at paths (clean, relative to the
// root), those among them that the walk that filled cache found, or
// vouched for, with a change time it can trust, on a local file system,
// if they are big enough to pay for it (minWatchedBytes).
func (r *RootFs) watch(cache *TreeCache, paths []string) *Watch {
	if cache == nil {
		return nil
	}
	var dirs []*dirWatch
	var size int64
	for _, p := range paths {
		if len(dirs) == maxWatched {
			break
		}
		e := cache.dirs[p]
		if e == nil || !(e.watched || e.change < cache.at-int64(racyMargin)) {
			continue // not walked this run, or changed too close to the walk to trust
		}
		if d, n := open(r, p, e); d != nil {
			dirs, size = append(dirs, d), size+n
		}
	}
	w := &Watch{fd: -1, dirs: map[int32]*dirWatch{}}
	if size >= minWatchedBytes {
		w.fd, _ = unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC) // none left for this user: -1, nothing watched
	}
	for _, d := range dirs {
		if w.fd < 0 || !w.add(d) {
			d.f.Close()
		}
	}
	if len(w.dirs) == 0 {
		if w.fd >= 0 {
			unix.Close(w.fd)
		}
		return nil
	}
	return w
}

// open opens the directory at p, if it is on a local file system and is
// the one that e noted, and returns its size.
func open(r *RootFs, p string, e *cachedDir) (*dirWatch, int64) {
	f, err := r.root.Open(p)
	if err != nil {
		return nil, 0
	}
	var sfs unix.Statfs_t
	var st unix.Stat_t
	// The magic is 32 bits, in a field that is signed, and as wide as a
	// word: compared as 32 bits unsigned on every architecture.
	if unix.Fstatfs(int(f.Fd()), &sfs) != nil || !localFileSystems[uint32(sfs.Type)] ||
		unix.Fstat(int(f.Fd()), &st) != nil || uint64(st.Dev) != e.dev || uint64(st.Ino) != e.ino {
		f.Close()
		return nil, 0
	}
	return &dirWatch{f: f, entry: e}, st.Size
}

// add watches d, if it is unchanged since the walk noted it: the watch is
// set first, then the directory compared, so that no change falls between
// the two.
func (w *Watch) add(d *dirWatch) bool {
	// The handle's own /proc link names exactly the directory opened, not
	// whatever a path would lead to by now.
	wd, err := unix.InotifyAddWatch(w.fd, "/proc/self/fd/"+strconv.Itoa(int(d.f.Fd())), watchMask)
	if err != nil || w.dirs[int32(wd)] != nil {
		// A directory met at a second path (a bind mount) has one watch,
		// for the first; the second path's entry stays as it was.
		return false
	}
	var st unix.Stat_t
	if unix.Fstat(int(d.f.Fd()), &st) != nil || st.Ctim.Nano() != d.entry.change {
		unix.InotifyRmWatch(w.fd, uint32(wd))
		return false
	}
	d.wd = int32(wd)
	w.dirs[d.wd] = d
	return true
}

// settle ends the watch. A directory in which nothing happened but the
// removal of files (or a change of their attributes: the link count of a
// hard-linked one) holds the subdirectories and symlinks noted, and its
// entry takes its new change time: the next walk vouches for it without
// reading it. Anything else (an entry made or renamed, a directory
// removed, the directory itself changed, the kernel's queue overflowing)
// leaves the entry as it was, which no longer matches, and the next walk
// reads the directory again.
//
// The events are read once the clock that stamps change times has passed
// the directories' new change times, and once every change begun by then
// has queued its event: a change after that read moves a change time past
// the one noted, and one before it is among the events.
func (w *Watch) settle() {
	if w.fd < 0 {
		return // settled already
	}
	defer func() { unix.Close(w.fd); w.fd = -1 }()
	changed := make(map[*dirWatch]int64, len(w.dirs))
	var latest int64
	for _, d := range w.dirs {
		var st unix.Stat_t
		if unix.Fstat(int(d.f.Fd()), &st) != nil {
			d.spoiled = true
			continue
		}
		c := st.Ctim.Nano()
		// A change time in whole microseconds (or seconds: ext4 with small
		// inodes) may be coarser than the clock: not trusted.
		if c%1000 == 0 {
			d.spoiled = true
		}
		changed[d], latest = c, max(latest, c)
	}
	if !clockPassed(latest) {
		for _, d := range w.dirs {
			d.spoiled = true
		}
	}
	// A change made by then has moved the change time, and its event is
	// queued before the kernel lets go of the directory's lock, which a
	// read of the directory takes: one read each, and every such event
	// is in the queue.
	buf := make([]byte, 512)
	for _, d := range w.dirs {
		if _, err := unix.Seek(int(d.f.Fd()), 0, io.SeekStart); err != nil {
			d.spoiled = true
		} else if _, err := unix.Getdents(int(d.f.Fd()), buf); err != nil {
			d.spoiled = true
		}
	}
	w.drain()
	for _, d := range w.dirs {
		if !d.spoiled {
			d.entry.change, d.entry.watched = changed[d], true
		}
		d.f.Close()
	}
}

// clockPassed waits, at most 50 ms, for the coarse real-time clock, which
// stamps a change time, to pass t.
func clockPassed(t int64) bool {
	deadline := time.Now().Add(50 * time.Millisecond)
	for {
		var ts unix.Timespec
		if unix.ClockGettime(unix.CLOCK_REALTIME_COARSE, &ts) != nil {
			return false
		}
		if ts.Nano() > t {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(250 * time.Microsecond) // the clock ticks every 1-10 ms
	}
}

// drain reads every event queued, and spoils the directories in which
// anything but the removal of a file happened.
func (w *Watch) drain() {
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(w.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			return // EAGAIN: nothing more
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				for _, d := range w.dirs {
					d.spoiled = true
				}
				continue
			}
			d := w.dirs[ev.Wd]
			if d == nil {
				continue
			}
			fileGone := ev.Len > 0 && ev.Mask&unix.IN_ISDIR == 0 && ev.Mask&^(unix.IN_DELETE|unix.IN_ATTRIB) == 0
			if !fileGone {
				d.spoiled = true
			}
		}
	}
}
