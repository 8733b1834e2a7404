package cleanup

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/store"
)

// A database's journal may be left under another name than the one
// JournalPath gives it now, with files still listed:
//
//   - a release before this one named a journal by the database's
//     spelling (its absolute path, or its URL), not by its identity, in a
//     state directory, and next to a SQLite file reached through a
//     symlink;
//   - a database restored by copy (cp db x && mv x db: a new inode; a
//     PostgreSQL dump restored into a new database) has a new identity,
//     and so a new name in a state directory, while its journal keeps the
//     old one.
//
// A run finds such journals and takes their files into its own
// (Journal.Adopt), under the same trust rules, so that no file whose row
// is gone is abandoned. It takes only what is surely its database's: a
// journal whose name says so (the spelling's hash, or the name next to
// the database), or one named after the same database (the label before
// the hash) whose header names this database's spelling. Two databases
// of one name (two db.sqlite3, two PostgreSQL databases called app) that
// share a state directory never take each other's: the other's gate, not
// this one's, knows which of its rows still want a file.

// former is a journal that may hold a database's files under another name.
type former struct {
	path string
	// byName: its name says whose it is; else its header must name the
	// database (see databaseSpelling).
	byName bool
}

// formerJournals returns the journals that may hold files of db under
// another name than path, its journal now: the name the previous release
// gave it, and, in a state directory, every journal named after the same
// database (the label before the hash) but another identity.
func formerJournals(db store.DB, stateDir, path string) []former {
	var out []former
	add := func(p string, byName bool) {
		if p == "" || p == path {
			return
		}
		for _, f := range out {
			if f.path == p {
				return
			}
		}
		out = append(out, former{p, byName})
	}
	name := db.Name()
	if db.Local() {
		if abs, err := filepath.Abs(name); err == nil {
			name = abs
		}
	}
	dir := filepath.Dir(path)
	if db.Local() && stateDir == "" {
		add(name+journalSuffix, true) // next to the database, by its spelling
	} else {
		add(filepath.Join(dir, formerJournalFile(name)), true)
	}
	if strings.HasSuffix(filepath.Base(path), journalSuffix) && (stateDir != "" || !db.Local()) {
		label := journalLabel(filepath.Base(path))
		matches, _ := filepath.Glob(filepath.Join(dir, globEscape(label)+"-*"+journalSuffix))
		for _, m := range matches {
			if journalLabel(filepath.Base(m)) == label {
				add(m, false)
			}
		}
	}
	return out
}

// databaseSpelling is what a journal's header calls db: a SQLite file's
// absolute path, symlinks resolved, or a server's URL without its
// password. A copy restored in the database's place keeps it.
func databaseSpelling(db store.DB) string {
	if db.Local() {
		if real, err := realPath(db.Name()); err == nil {
			return real
		}
	}
	return db.Name()
}

// formerJournalFile is the name that the release before identities gave
// the journal of the database called name in a shared directory: its label
// and a hash of the name itself.
func formerJournalFile(name string) string { return hashedName(name, name) }

// journalLabel is the database's label in a journal's file name: what
// comes before the last "-" and the hash.
func journalLabel(file string) string {
	base := strings.TrimSuffix(file, journalSuffix)
	if i := strings.LastIndexByte(base, '-'); i >= 0 {
		return base[:i]
	}
	return base
}

// globEscape escapes what filepath.Glob would read as a pattern.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}

// Adopt takes into j, the journal of db, the files that journals left
// under former names of db list (see formerJournals), if they list files
// under j's media root, and removes those journals: the batches come
// across whole, with their gone times and their files' identities. From
// now on j's header names db, so that a copy restored in its place finds
// j. Call it before Run, which then finishes the batches as batches an
// earlier run left. A former journal that does not exist, that another
// run holds, or that is not surely db's, is left; one that cannot be
// trusted is left too, and named in the error, which the caller reports
// (it is not j's to vouch for). It returns how many files it took.
func (j *Journal) Adopt(db store.DB, stateDir string) (int64, error) {
	if err := j.opened(); err != nil || j.readOnly {
		return 0, err
	}
	j.mu.Lock()
	j.database = databaseSpelling(db)
	j.mu.Unlock()
	var taken int64
	var errs []error
	for _, f := range formerJournals(db, stateDir, j.name) {
		n, err := j.adopt(f)
		taken += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return taken, errors.Join(errs...)
}

// adopt takes the files of the journal f, if it is surely j's database's
// and lists files under j's media root.
func (j *Journal) adopt(fj former) (int64, error) {
	name := fj.path
	f, _, err := openJournalFile(j.fsys, name, false)
	if errors.Is(err, iofs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	unlock, err := lockFile(j.fsys, name, f)
	if errors.Is(err, ErrJournalBusy) {
		return 0, nil // another run is at work on it: it finishes it
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrJournal, name, err)
	}
	defer unlock()
	same, err := sameFile(j.fsys, f, name)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrJournal, name, err)
	}
	if !same {
		return 0, nil // compacted or removed meanwhile
	}
	p, err := parseJournal(io.NewSectionReader(f, 0, 1<<62), nil)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrJournal, name, err)
	}
	if p.files() == 0 || !p.media.same(j.media) || !fj.byName && p.database != j.database {
		return 0, nil
	}
	// Each batch's files, streamed, come across as a batch of j's.
	j.mu.Lock()
	defer j.mu.Unlock()
	var taken int64
	var cur []entry
	last := int64(-1)
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		// A gone time that a grace cannot be measured from here (none,
		// in the future, of another boot) starts a grace now, as at
		// open (see restamp).
		gone, now := p.batches[last].gone, j.clock()
		if gone.wall.IsZero() || gone.wall.After(now.wall) || !sameBoot(gone, now) {
			gone = now
		}
		seq, err := j.add(cur, gone)
		if err != nil {
			return err
		}
		// Written before this run's first batch: the run's due phase
		// takes it as one that an earlier run left.
		j.open[seq].left = true
		j.read = j.size
		taken += int64(len(cur))
		cur = cur[:0]
		return nil
	}
	_, err = parseJournal(io.NewSectionReader(f, 0, p.whole), func(batch, index int64, e entry) error {
		b := p.batches[batch]
		if b == nil || index < b.skip {
			return nil
		}
		if batch != last || len(cur) == maxFilesPerBatch {
			if err := flush(); err != nil {
				return err
			}
			last = batch
		}
		cur = append(cur, e)
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return taken, fmt.Errorf("%w: %s: %v", ErrJournal, name, err)
	}
	// Its files are in j now, fsynced: the old journal goes.
	if err := j.fsys.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return taken, fmt.Errorf("remove %s: %w", name, err)
	}
	return taken, nil
}

// OtherJournal is a journal beside a database's own that lists files, or
// that cannot be read: one that is surely this database's (Adoptable: the
// next real run takes its files, if they are under the run's media root),
// or one that no run on this database claims.
type OtherJournal struct {
	Path      string `json:"path"`
	MediaRoot string `json:"media_root"`
	Database  string `json:"database,omitempty"` // what its header names, if anything
	Files     int64  `json:"files"`
	Adoptable bool   `json:"adoptable"`
	Error     string `json:"error,omitempty"` // why it cannot be read or trusted
}

// OtherJournals lists the journals in the directory of path, db's journal,
// besides path itself, that list files or cannot be read: what stats
// reports, so that no journal is forgotten.
func OtherJournals(fsys afero.Fs, db store.DB, stateDir, path string) []OtherJournal {
	formers := formerJournals(db, stateDir, path)
	spelling := databaseSpelling(db)
	matches, _ := afero.Glob(fsys, filepath.Join(filepath.Dir(path), "*"+journalSuffix))
	var out []OtherJournal
	for _, m := range matches {
		if m == path {
			continue
		}
		o := OtherJournal{Path: m}
		p, err := readJournalAt(fsys, m)
		if err != nil {
			o.Error = err.Error()
			out = append(out, o)
			continue
		}
		o.MediaRoot, o.Database, o.Files = p.media.Name, p.database, p.files()
		for _, f := range formers {
			if f.path == m && (f.byName || p.database == spelling) {
				o.Adoptable = true
			}
		}
		if o.Files > 0 {
			out = append(out, o)
		}
	}
	return out
}

// readJournalAt parses the journal at name, under the journal's trust
// rules, without locking it.
func readJournalAt(fsys afero.Fs, name string) (parsedJournal, error) {
	f, _, err := openJournalFile(fsys, name, false)
	if err != nil {
		return parsedJournal{}, err
	}
	defer f.Close()
	return parseJournal(f, nil)
}
