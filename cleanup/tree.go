package cleanup

import (
	"fmt"
	"strings"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

// treeSuffix ends the name of the file that keeps the last walk of
// MEDIA_ROOT (fs.TreeCache) beside the journal.
const treeSuffix = ".cleanup-stale-tree"

// treeName is where the journal's tree cache lives: beside it, under its
// name with its own suffix.
func (j *Journal) treeName() string {
	return strings.TrimSuffix(j.name, journalSuffix) + treeSuffix
}

// loadTree reads the tree cache beside the journal, under the journal's
// trust rules: a cache that another hand could have written might hide a
// symlink, so one that is not to be trusted is not used (a full walk
// costs time, not safety). None, or one that cannot be read, is an empty
// cache.
func (j *Journal) loadTree() *fs.TreeCache {
	f, _, err := openJournalFile(j.fsys, j.treeName(), false)
	if err != nil {
		return fs.NewTreeCache()
	}
	defer f.Close()
	c, err := fs.ReadTreeCache(f)
	if err != nil {
		return fs.NewTreeCache()
	}
	return c
}

// saveTree writes the tree cache beside the journal, as the journal is
// compacted: a new file, mode 0600, renamed over the old one.
func (j *Journal) saveTree(c *fs.TreeCache) error {
	if j.readOnly {
		return nil
	}
	name := j.treeName()
	tmp := name + ".tmp"
	f, err := createJournalTemp(j.fsys, tmp)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	_, err = c.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = j.fsys.Rename(tmp, name)
	}
	if err != nil {
		j.fsys.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
