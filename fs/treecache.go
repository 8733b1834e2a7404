package fs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// TreeCache is what the last walk of MEDIA_ROOT (see FindAliases) found in
// each directory that matters to aliases: its subdirectories and its
// symlinks, with the directory's device, inode and change time. A
// directory's change time moves whenever an entry is added to it, removed
// or renamed, so a directory whose change time is the one noted holds the
// same subdirectories and symlinks: the next walk does not read it again,
// and costs a stat per directory instead of a read of every entry. The
// symlinks' targets are looked at again on every walk.
//
// A change time is only as fine as the file system keeps it (a second or
// two on some): a directory changed within the same tick as the walk that
// noted it could look unchanged. So a directory is trusted only when its
// change time was at least racyMargin older than the walk that noted it
// (as git does with its index).
//
// The cache holds only the walk's findings, never a decision: a cache
// that is lost, or stale, costs a walk, and one that a hostile hand wrote
// could hide a symlink: the caller keeps it where it keeps the journal,
// under the same rules.
type TreeCache struct {
	at   int64 // when the walk that filled it began, in ns since 1970
	dirs map[string]*cachedDir
	now  func() time.Time
}

// cachedDir is one directory as the walk found it.
type cachedDir struct {
	dev, ino uint64
	change   int64 // ns
	subdirs  []string
	links    []string
}

// racyMargin is how much older than the walk a directory's change time
// must be for the cache to vouch for it.
const racyMargin = 2 * time.Second

const treeMagic = "cleanup-stale tree v1 at="

// NewTreeCache returns an empty cache: the first walk reads everything.
func NewTreeCache() *TreeCache {
	return &TreeCache{dirs: map[string]*cachedDir{}, now: time.Now}
}

// ReadTreeCache reads what WriteTo wrote. Anything else is an error; the
// caller then walks without it.
func ReadTreeCache(r io.Reader) (*TreeCache, error) {
	c := NewTreeCache()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur *cachedDir
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		bad := func(why string) error { return fmt.Errorf("tree cache line %d: %s: %.60q", n, why, line) }
		if n == 1 {
			at, ok := strings.CutPrefix(line, treeMagic)
			v, err := strconv.ParseInt(at, 10, 64)
			if !ok || err != nil {
				return nil, bad("not a tree cache")
			}
			c.at = v
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		name, rest, err := quoted(rest)
		if err != nil {
			return nil, bad("not a quoted name")
		}
		switch kind {
		case "dir":
			f := strings.Fields(rest)
			if len(f) != 3 {
				return nil, bad("not a directory")
			}
			dev, err1 := strconv.ParseUint(f[0], 10, 64)
			ino, err2 := strconv.ParseUint(f[1], 10, 64)
			change, err3 := strconv.ParseInt(f[2], 10, 64)
			if errors.Join(err1, err2, err3) != nil {
				return nil, bad("not a directory")
			}
			cur = &cachedDir{dev: dev, ino: ino, change: change}
			c.dirs[name] = cur
		case "sub", "link":
			if cur == nil || rest != "" || name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
				return nil, bad("not an entry")
			}
			if kind == "sub" {
				cur.subdirs = append(cur.subdirs, name)
			} else {
				cur.links = append(cur.links, name)
			}
		default:
			return nil, bad("unknown record")
		}
	}
	return c, sc.Err()
}

// WriteTo writes the cache, in text.
func (c *TreeCache) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s%d\n", treeMagic, c.at)
	for p, d := range c.dirs {
		fmt.Fprintf(bw, "dir %s %d %d %d\n", strconv.Quote(p), d.dev, d.ino, d.change)
		for _, s := range d.subdirs {
			fmt.Fprintf(bw, "sub %s\n", strconv.Quote(s))
		}
		for _, l := range d.links {
			fmt.Fprintf(bw, "link %s\n", strconv.Quote(l))
		}
	}
	return 0, bw.Flush()
}

// vouches reports whether the cache may stand for the directory at p,
// which has now the device, inode and change time given.
func (c *TreeCache) vouches(p string, dev, ino uint64, change int64) (*cachedDir, bool) {
	if c == nil {
		return nil, false
	}
	d := c.dirs[p]
	ok := d != nil && d.dev == dev && d.ino == ino && d.change == change && change < c.at-int64(racyMargin)
	return d, ok
}

// quoted reads a Go-quoted string at the start of s, and returns what
// follows it, without its leading space.
func quoted(s string) (string, string, error) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", err
	}
	u, err := strconv.Unquote(q)
	return u, strings.TrimPrefix(s[len(q):], " "), err
}
