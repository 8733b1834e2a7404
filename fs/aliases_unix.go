//go:build unix

package fs

import (
	"context"
	"errors"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// fileKey is a file's device and inode.
type fileKey struct{ dev, ino uint64 }

// link is a symlink of the tree and the key of what it leads to.
type link struct {
	path   string
	target fileKey
}

// tree is what a walk of the root found that gives files more than one
// name. It never follows a symlink: a link is noted with what it leads
// to, and its target is walked where it lies, if inside.
type tree struct {
	dirs      map[fileKey][]string // each directory's paths without a symlink: two for a bind mount
	dirLinks  []link               // symlinks to directories
	fileLinks []link               // symlinks to files (anything not a directory)
	opaque    []string             // symlinks whose target is no directory of the tree, or cannot be told
	hard      map[fileKey][]string // paths of the files asked about that have more than one link
	partial   bool                 // a directory could not be read
	// aliased holds the directories of dirs that have another name: a
	// second path, or a link to them. Usually none.
	aliased map[fileKey][]string
}

// newAliaser walks the tree once (see NewAliaser).
func (r *RootFs) newAliaser(ctx context.Context, cache *TreeCache) (*Aliaser, error) {
	t, err := r.walk(ctx, nil, cache)
	if err != nil {
		return nil, err
	}
	return &Aliaser{find: func(ctx context.Context, names []string) (Aliases, error) {
		return r.findAliases(ctx, t, names)
	}}, nil
}

// findAliases spells each file at names every way it can be reached in t
// (see Aliaser.Find).
func (r *RootFs) findAliases(ctx context.Context, t *tree, names []string) (Aliases, error) {
	a := Aliases{Names: make([][]string, len(names)), Unknown: make([]bool, len(names))}
	type asked struct {
		key    fileKey
		parent fileKey
		base   string
		exists bool
	}
	files := make([]asked, len(names))
	hard := map[fileKey]bool{}
	c := newDirs(r.root)
	for i, n := range names {
		a.Names[i] = []string{n}
		err := c.in(n, func(d *dir, base string) error {
			var st unix.Stat_t
			if err := unix.Fstatat(d.fd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
			files[i] = asked{key: fileKey{uint64(st.Dev), uint64(st.Ino)}, parent: fileKey{d.dev, d.ino},
				base: base, exists: true}
			if st.Nlink > 1 && st.Mode&unix.S_IFMT != unix.S_IFDIR {
				hard[files[i].key] = true
			}
			return nil
		})
		// A name too long for the file system names no file, as a missing one.
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENAMETOOLONG) {
			a.Unknown[i] = true // os.Root refuses the way there: nothing is removed through it anyway
		}
	}
	c.close()
	if len(hard) > 0 {
		// Files with another link: the tree is read again, every file
		// looked at, for their other names (rare: the web app writes
		// each upload once).
		ht, err := r.walk(ctx, hard, nil)
		if err != nil {
			return a, err
		}
		t = &tree{dirs: t.dirs, dirLinks: t.dirLinks, fileLinks: t.fileLinks, opaque: t.opaque,
			hard: ht.hard, partial: t.partial || ht.partial, aliased: t.aliased}
	}
	a.Opaque = t.opaque
	for i, f := range files {
		if !f.exists || a.Unknown[i] {
			continue
		}
		parents := t.dirs[f.parent]
		if len(parents) == 0 || t.partial {
			a.Unknown[i] = true
			continue
		}
		seed := []string{names[i]}
		for _, p := range parents {
			seed = append(seed, joinPath(p, f.base))
		}
		seed = append(seed, t.hard[f.key]...)
		for _, l := range t.fileLinks {
			if l.target == f.key {
				seed = append(seed, l.path)
			}
		}
		a.Names[i], a.Unknown[i] = t.spell(seed)
	}
	return a, nil
}

// spell returns every spelling of the names in seed through the tree's
// directory links and bind mounts, to a fixed point: a path below a
// directory is also a path below each link to it and each other path of
// it. ok is false when there are more than maxSpellings.
func (t *tree) spell(seed []string) (names []string, unknown bool) {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, s := range seed {
		add(s)
	}
	for i := 0; i < len(out); i++ {
		if len(out) > maxSpellings {
			return out, true
		}
		s := out[i]
		for key, paths := range t.aliased {
			for _, p := range paths {
				if rest, ok := below(s, p); ok {
					for _, q := range paths {
						add(joinPath(q, rest))
					}
					for _, l := range t.dirLinks {
						if l.target == key {
							add(joinPath(l.path, rest))
						}
					}
				}
			}
		}
	}
	return out, false
}

// below reports whether p is below dir, and what follows dir in it.
func below(p, dir string) (string, bool) {
	if dir == "." {
		return p, true
	}
	rest, ok := strings.CutPrefix(p, dir+"/")
	return rest, ok
}

func joinPath(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// walk reads every directory of the tree, without following a symlink,
// and notes its links, its directories' paths and, for the files in hard
// (keys with more than one link), every path at which they lie. A
// directory that cache vouches for is not read again (see TreeCache);
// cache, if any, then holds what this walk found.
func (r *RootFs) walk(ctx context.Context, hard map[fileKey]bool, cache *TreeCache) (*tree, error) {
	t := &tree{dirs: map[fileKey][]string{}, hard: map[fileKey][]string{}}
	next := NewTreeCache()
	if cache != nil {
		next.now = cache.now
	}
	next.at = next.now().UnixNano()
	stack := []string{"."}
	buf := make([]byte, direntBuffer)
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f, err := r.root.Open(p)
		if err != nil {
			t.partial = true // moved or removed meanwhile, or refused
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			f.Close()
			t.partial = true
			continue
		}
		key := fileKey{uint64(st.Dev), uint64(st.Ino)}
		first := len(t.dirs[key]) == 0
		t.dirs[key] = append(t.dirs[key], p)
		if !first {
			f.Close() // a bind mount of a directory already walked
			continue
		}
		change := st.Ctim.Nano()
		if d, ok := cache.vouches(p, key.dev, key.ino, change); ok && len(hard) == 0 {
			// Unchanged since the last walk: its subdirectories and links
			// are the ones noted; the links' targets are looked at anew.
			for _, s := range d.subdirs {
				t.note(f, p, s, unix.DT_DIR, hard, &stack)
			}
			for _, l := range d.links {
				t.note(f, p, l, unix.DT_LNK, hard, &stack)
			}
			next.dirs[p] = d
			f.Close()
			continue
		}
		d := &cachedDir{dev: key.dev, ino: key.ino, change: change}
		dirReads.Add(1)
		err = readDirTypes(f, buf, len(hard) > 0, func(name string, typ uint8) error {
			typ = t.note(f, p, name, typ, hard, &stack)
			switch typ {
			case unix.DT_DIR:
				d.subdirs = append(d.subdirs, name)
			case unix.DT_LNK:
				d.links = append(d.links, name)
			}
			return nil
		})
		f.Close()
		if err != nil {
			t.partial = true
			continue
		}
		next.dirs[p] = d
	}
	t.finish()
	if cache != nil && !t.partial {
		*cache = *next
	}
	return t, nil
}

// note notes one entry of the directory d at p, and returns its type.
func (t *tree) note(d *os.File, p, name string, typ uint8, hard map[fileKey]bool, stack *[]string) uint8 {
	full := joinPath(p, name)
	fd := int(d.Fd())
	if typ == unix.DT_UNKNOWN {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return unix.DT_UNKNOWN // gone meanwhile
		}
		typ = dirType(uint32(st.Mode))
	}
	switch typ {
	case unix.DT_DIR:
		*stack = append(*stack, full)
	case unix.DT_LNK:
		var st unix.Stat_t
		switch err := unix.Fstatat(fd, name, &st, 0); {
		case errors.Is(err, unix.ENOENT):
			// Dangling: it reaches no file.
		case err != nil:
			t.opaque = append(t.opaque, full+"/", full)
		case st.Mode&unix.S_IFMT == unix.S_IFDIR:
			t.dirLinks = append(t.dirLinks, link{full, fileKey{uint64(st.Dev), uint64(st.Ino)}})
		default:
			t.fileLinks = append(t.fileLinks, link{full, fileKey{uint64(st.Dev), uint64(st.Ino)}})
		}
	case unix.DT_REG:
		// Only when a file asked about has more than one link; then every
		// file is looked at (a directory entry's inode number is not
		// always the file's: overlayfs).
		if len(hard) > 0 {
			var st unix.Stat_t
			if unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
				if k := (fileKey{uint64(st.Dev), uint64(st.Ino)}); hard[k] {
					t.hard[k] = append(t.hard[k], full)
				}
			}
		}
	}
	return typ
}

// finish notes the links whose targets are no directory of the tree
// (outside it, or in a part that could not be read) and those that loop:
// a row below one is resolved on its own.
func (t *tree) finish() {
	kept := t.dirLinks[:0]
	for _, l := range t.dirLinks {
		if len(t.dirs[l.target]) == 0 || t.loops(l) {
			t.opaque = append(t.opaque, l.path+"/")
			continue
		}
		kept = append(kept, l)
	}
	t.dirLinks = kept
	t.aliased = map[fileKey][]string{}
	for key, paths := range t.dirs {
		if len(paths) > 1 {
			t.aliased[key] = paths
		}
	}
	for _, l := range t.dirLinks {
		t.aliased[l.target] = t.dirs[l.target]
	}
}

// loops reports whether l leads to a directory that holds it (current ->
// .., say): every file below would have endless spellings. Rows below
// such a link are resolved one by one instead.
func (t *tree) loops(l link) bool {
	for _, p := range t.dirs[l.target] {
		if _, ok := below(l.path, p); ok {
			return true
		}
	}
	return false
}

func dirType(mode uint32) uint8 {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return unix.DT_DIR
	case unix.S_IFLNK:
		return unix.DT_LNK
	case unix.S_IFREG:
		return unix.DT_REG
	}
	return unix.DT_UNKNOWN
}

var _ aliaserMaker = (*RootFs)(nil)
