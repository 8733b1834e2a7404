package cleanup

import (
	"context"
	"path"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
)

// gate is the one way that a file leaves MEDIA_ROOT (docs/design.md, The
// removal gate). Every remover passes its files through it a chunk at a
// time: a run's batches without a file grace, the due phase that finishes
// the journal, and the sweep. For each chunk it
//
//  1. stops if the run was stopped: the chunk stays listed;
//  2. asks the database which rows name each file now, by every name that
//     reaches it (fs.Aliaser: the file's own, and those through directory
//     and file symlinks, hard links and bind mounts), in one scan of the
//     table (and a second for the other names, where links give any): a
//     row written back, a new row that took the name, another row that
//     shares the file, each keeps it;
//  3. removes each file that no row names, if it is still the file noted
//     for it (fs.RemoveTargets, by its identity): a new upload that took a
//     freed name, or an S3 key written again, is not the gate's to remove.
//
// What the gate found is each caller's to record: the journal notes, a
// chunk at a time, what is finished.
type gate struct {
	db      protocol.DB
	media   afero.Fs
	workers int
	// tree is what the last walk of MEDIA_ROOT found (fs.TreeCache), kept
	// across runs beside the journal; nil walks every directory. walked
	// says whether this run walked, so that it is written back.
	tree   *fs.TreeCache
	walked bool
	// aliaser reads MEDIA_ROOT's tree once per run, at the first chunk.
	aliaser *fs.Aliaser
	// unclean also asks for the rows that spell a file otherwise than
	// Django does (stl//x.stl): a scan twice as long, which the sweep
	// pays, since the files it takes were never journaled.
	unclean bool
}

// withTree gives g the tree cache kept beside j, and returns a function
// that writes it back if the run walked.
func (g *gate) withTree(j *Journal, log func(msg string, args ...any)) (save func()) {
	g.tree = j.loadTree()
	return func() {
		if !g.walked {
			return
		}
		if err := j.saveTree(g.tree); err != nil {
			log("cannot keep the walk of MEDIA_ROOT for the next run; it will walk again", "error", err)
		}
	}
}

// verdict is what the gate did with one file.
type verdict struct {
	// used: a row names the file, or another name of it: it stays, and
	// is no longer the gate's.
	used bool
	// unknown: not every name of the file could be found (a tree whose
	// links give it too many, a directory that could not be read): it
	// stays, and a later pass asks again.
	unknown bool
	// result is what the removal did, when neither of the above.
	result fs.Result
}

// finished reports whether the file is no longer pending: removed, gone,
// another file at its name now, or still used by a row. A removal that
// failed, or that a stop cut short, is not.
func (v verdict) finished() bool {
	if v.used {
		return true
	}
	switch v.result.Outcome {
	case fs.Removed, fs.Gone, fs.Replaced:
		return true
	}
	return false
}

// pass takes chunk through the gate. An error means the database could
// not be asked: nothing of the chunk was removed. A stop is no error: the
// files it cut short fail with the context's error.
func (g *gate) pass(ctx context.Context, chunk []entry) ([]verdict, error) {
	out := make([]verdict, len(chunk))
	if err := ctx.Err(); err != nil {
		return cutShort(out, err), nil
	}
	if err := g.judge(ctx, chunk, out); err != nil {
		if ctx.Err() != nil {
			return cutShort(out, ctx.Err()), nil
		}
		return nil, err
	}
	g.remove(ctx, chunk, out)
	return out, nil
}

// remove removes the files of chunk that judge found no row naming, by
// their identities, and notes what each removal did in out.
func (g *gate) remove(ctx context.Context, chunk []entry, out []verdict) {
	at := make([]int, 0, len(chunk))
	targets := make([]fs.Target, 0, len(chunk))
	for i, e := range chunk {
		if !out[i].used && !out[i].unknown {
			at = append(at, i)
			targets = append(targets, fs.Target{Path: e.path, ID: e.id})
		}
	}
	for j, r := range removeTargets(ctx, g.media, targets, g.workers) {
		out[at[j]].result = r
	}
}

// cutShort is every verdict of a chunk that a stop ended before it began.
func cutShort(out []verdict, err error) []verdict {
	for i := range out {
		out[i] = verdict{result: fs.Result{Outcome: fs.Failed, Err: err}}
	}
	return out
}

// judge marks in out the files of chunk that a row names now, and those
// whose names could not all be found, among the files that a removal
// could take. A file noted missing (nothing was at its name when its row was
// deleted) is never removed: whatever is at its name now is another file,
// and stays (fs.RemoveTargets). No row need be asked about it, and a chunk
// of such files, the rows of an install whose uploads are gone already,
// costs no walk of MEDIA_ROOT and no scan of the table.
func (g *gate) judge(ctx context.Context, chunk []entry, out []verdict) error {
	var at []int
	var some []entry
	for i, e := range chunk {
		if !e.id.IsMissing() {
			at = append(at, i)
			some = append(some, e)
		}
	}
	switch len(some) {
	case 0:
		return nil
	case len(chunk):
		return g.ask(ctx, chunk, out)
	}
	judged := make([]verdict, len(some))
	if err := g.ask(ctx, some, judged); err != nil {
		return err
	}
	for j, i := range at {
		out[i] = judged[j]
	}
	return nil
}

// ask asks the database which rows name each file of chunk now, by every
// name that reaches it, and marks in out the files that a row names and
// those whose names could not all be found.
//
// The table is scanned for the files' own names while MEDIA_ROOT's tree is
// read for their other names: neither needs the other, and on a big
// install both take tens of milliseconds (200k rows; the month
// directories that changed since the last run), so on two cores the
// question costs about the longer of the two, not their sum
// (docs/design.md, The removal gate). A second scan asks only for the
// other names that the tree gives, and there are none unless a symlink,
// a hard link or a bind mount does.
func (g *gate) ask(ctx context.Context, chunk []entry, out []verdict) error {
	names := make([]string, len(chunk))
	for i, e := range chunk {
		names[i] = e.path
		if clean, err := fs.CleanPath(e.path); err == nil {
			names[i] = clean // a row's stl//x.stl is the file stl/x.stl
		}
	}
	scanCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	first := make(chan ownScan, 1)
	go func() {
		hits := map[string]bool{}
		q := protocol.NameQuery{Files: names, Unclean: g.unclean}
		err := g.db.Named(scanCtx, q, func(file string) error { hits[file] = true; return nil })
		first <- ownScan{hits, err}
	}()
	al, err := g.aliases(ctx, names)
	if err != nil {
		cancel()
		<-first
		return err
	}
	own := <-first
	if own.err != nil {
		return own.err
	}
	m := newNameMatch(g, chunk, names, al)
	defer m.opaque.close()
	for file := range own.hits {
		m.mark(file, out)
	}
	for i := range out {
		out[i].unknown = al.Unknown[i]
	}
	if len(m.others) == 0 && len(al.Opaque) == 0 {
		return nil
	}
	q := protocol.NameQuery{Files: m.others, Prefixes: al.Opaque}
	return g.db.Named(ctx, q, func(file string) error {
		m.mark(file, out)
		return nil
	})
}

// ownScan is what the scan for a chunk's own names found: the distinct
// files of the rows that name one of them (or, for the sweep, that spell
// a file otherwise than Django does).
type ownScan struct {
	hits map[string]bool
	err  error
}

// aliases spells each file at names every way that reaches it, reading
// MEDIA_ROOT's tree at the run's first chunk.
func (g *gate) aliases(ctx context.Context, names []string) (fs.Aliases, error) {
	if g.aliaser == nil {
		a, err := fs.NewAliaser(ctx, g.media, g.tree)
		if err != nil {
			return fs.Aliases{}, err
		}
		g.aliaser, g.walked = a, true
	}
	return g.aliaser.Find(ctx, names)
}

// nameMatch says which files of a chunk the file that a row names
// reaches: by one of their spellings, by its clean form (the sweep's rows
// that Django would not write), or, below a link whose target the tree
// could not see into, by what it is on the disk.
type nameMatch struct {
	unclean bool
	owners  map[string][]int // spelling -> the files of the chunk it reaches
	others  []string         // the spellings that are no file's own name
	opaque  opaqueRows
}

func newNameMatch(g *gate, chunk []entry, names []string, al fs.Aliases) *nameMatch {
	m := &nameMatch{unclean: g.unclean, owners: map[string][]int{},
		opaque: opaqueRows{media: g.media, chunk: chunk, prefixes: al.Opaque}}
	for i, n := range names {
		m.owners[n] = append(m.owners[n], i)
	}
	for i, spellings := range al.Names {
		for _, s := range spellings {
			if s == names[i] {
				continue
			}
			if m.owners[s] == nil {
				m.others = append(m.others, s)
			}
			m.owners[s] = append(m.owners[s], i)
		}
	}
	return m
}

// mark marks in out the files of the chunk that file reaches as used.
func (m *nameMatch) mark(file string, out []verdict) {
	is := m.owners[file]
	if is == nil && m.unclean {
		if clean, err := fs.CleanPath(file); err == nil && clean != file {
			is = m.owners[clean] // stl//2026/11/x.stl names stl/2026/11/x.stl
		}
	}
	if is == nil {
		is = m.opaque.reaches(file)
	}
	for _, i := range is {
		out[i].used = true
	}
}

// opaqueRows resolves, one at a time, the rows whose files lie below a
// symlink whose target fs.FindAliases could not see into (a link out of
// MEDIA_ROOT, one that loops), and says which files of the chunk each one
// reaches: by what it is (fs.Keys), as the web app would follow it.
type opaqueRows struct {
	media    afero.Fs
	chunk    []entry
	prefixes []string
	keys     fs.Keys
	byKey    map[string][]int
}

func (o *opaqueRows) reaches(file string) []int {
	if !o.below(file) {
		return nil
	}
	if o.keys == nil {
		o.keys = fs.NewKeys(o.media)
		o.byKey = map[string][]int{}
		for i, e := range o.chunk {
			k := o.keys.Key(e.path)
			o.byKey[k] = append(o.byKey[k], i)
		}
	}
	return o.byKey[o.keys.Key(path.Clean(file))]
}

// below reports whether file lies below one of the prefixes.
func (o *opaqueRows) below(file string) bool {
	clean := path.Clean(file)
	for _, p := range o.prefixes {
		if len(clean) >= len(p) && clean[:len(p)] == p || clean+"/" == p {
			return true
		}
	}
	return false
}

func (o *opaqueRows) close() {
	if o.keys != nil {
		o.keys.Close()
	}
}

// removeTargets removes targets with up to workers at once, in one slice
// per worker: on a disk each worker removes its files one by one (unlinks
// in one directory overlap well across workers); on S3 each slice is a
// DeleteObjects request or a few. It returns one Result per target.
func removeTargets(ctx context.Context, media afero.Fs, targets []fs.Target, workers int) []fs.Result {
	res := make([]fs.Result, len(targets))
	if len(targets) == 0 {
		return res
	}
	size := (len(targets) + workers - 1) / workers
	done := make(chan struct{})
	n := 0
	for start := 0; start < len(targets); start += size {
		end := min(start+size, len(targets))
		n++
		go func() {
			defer func() { done <- struct{}{} }()
			copy(res[start:end], fs.RemoveTargets(ctx, media, targets[start:end]))
		}()
	}
	for range n {
		<-done
	}
	return res
}
