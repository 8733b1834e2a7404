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
// is gone is abandoned. FormerJournals says where to look.

// FormerJournals returns the journals that may hold files of db under
// another name than path, its journal now: the name the previous release
// gave it, and, in a state directory, every journal named after the same
// database (the label before the hash) but another identity.
func FormerJournals(db store.DB, stateDir, path string) []string {
	var out []string
	add := func(p string) {
		if p != "" && p != path && !containsString(out, p) {
			out = append(out, p)
		}
	}
	name := db.Name()
	if db.Local() {
		if abs, err := filepath.Abs(name); err == nil {
			name = abs
		}
	}
	dir := filepath.Dir(path)
	if db.Local() && stateDir == "" {
		add(name + journalSuffix) // next to the database, by its spelling
	} else {
		add(filepath.Join(dir, formerJournalFile(name)))
	}
	if strings.HasSuffix(filepath.Base(path), journalSuffix) && (stateDir != "" || !db.Local()) {
		label := journalLabel(filepath.Base(path))
		matches, _ := filepath.Glob(filepath.Join(dir, globEscape(label)+"-*"+journalSuffix))
		for _, m := range matches {
			if journalLabel(filepath.Base(m)) == label {
				add(m)
			}
		}
	}
	return out
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

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Adopt takes into j the files that the journals at former list, if they
// list files under j's media root, and removes them: the batches come
// across whole, with their gone times and their files' identities. Call
// it before Run, which then finishes them as batches an earlier run left. A
// former journal that does not exist, or that another run holds, is left;
// one that cannot be trusted is left too, and named in the error, which
// the caller reports (it is not j's to vouch for). It returns how many
// files it took.
func (j *Journal) Adopt(former []string) (int64, error) {
	if err := j.opened(); err != nil || j.readOnly {
		return 0, err
	}
	var taken int64
	var errs []error
	for _, name := range former {
		n, err := j.adopt(name)
		taken += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return taken, errors.Join(errs...)
}

// adopt takes the files of the journal at name, if it is one of j's media
// root's.
func (j *Journal) adopt(name string) (int64, error) {
	f, _, err := openJournalFile(j.fsys, name, false)
	if errors.Is(err, iofs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	unlock, err := lockFile(j.fsys, name, f)
	if err != nil {
		return 0, nil // another run is at work on it: it finishes it
	}
	defer unlock()
	if same, err := sameFile(j.fsys, f, name); err != nil || !same {
		return 0, nil // compacted or removed meanwhile
	}
	p, err := parseJournal(io.NewSectionReader(f, 0, 1<<62), nil)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrJournal, name, err)
	}
	if p.files() == 0 || !p.media.same(j.media) {
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

// OtherJournal is a journal beside a database's own that lists files: one
// that the next run will take (Adoptable), or one that no database run
// here claims.
type OtherJournal struct {
	Path      string `json:"path"`
	MediaRoot string `json:"media_root"`
	Files     int64  `json:"files"`
	Adoptable bool   `json:"adoptable"`
}

// OtherJournals lists the journals in path's directory, besides path
// itself, that list files: what stats reports, so that no journal is
// forgotten. One that cannot be read or trusted is listed with no files.
// media, if not nil, says which media root the next run works on: only a
// former journal of the same root is adoptable.
func OtherJournals(fsys afero.Fs, path string, former []string, media *Media) []OtherJournal {
	matches, _ := afero.Glob(fsys, filepath.Join(filepath.Dir(path), "*"+journalSuffix))
	var out []OtherJournal
	for _, m := range matches {
		if m == path {
			continue
		}
		o := OtherJournal{Path: m}
		if f, _, err := openJournalFile(fsys, m, false); err == nil {
			if p, err := parseJournal(f, nil); err == nil {
				o.MediaRoot, o.Files = p.media.Name, p.files()
				o.Adoptable = containsString(former, m) && (media == nil || p.media.same(*media))
			}
			f.Close()
		}
		if o.Files > 0 || o.MediaRoot == "" {
			out = append(out, o)
		}
	}
	return out
}
