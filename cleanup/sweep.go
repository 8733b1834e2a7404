package cleanup

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/protocol"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// Defaults of an orphan sweep.
const (
	// DefaultSweepBatch is how many orphans a sweep removes after one read
	// of the rows added meanwhile.
	DefaultSweepBatch = 200
	// DefaultSweepGrace spares a day's uploads.
	DefaultSweepGrace = 24 * time.Hour
	// DefaultUploadDir is where the web app puts its uploads (Django's
	// upload_to).
	DefaultUploadDir = "stl"
)

// SweepOptions tunes an orphan sweep (docs/design.md, Sweep). As with
// Options, every zero value means the default, and Now's is the clock.
type SweepOptions struct {
	// Now is the instant that ages are judged at; zero is the clock.
	Now time.Time
	// Grace spares files modified less than Grace before Now, or ahead of
	// it by less than Grace: a fresh upload whose row the web app has not
	// committed yet (see fs.Fresh). DefaultSweepGrace when zero; None
	// spares none.
	Grace time.Duration
	// UploadDir is the directory under MEDIA_ROOT to sweep
	// (DefaultUploadDir).
	UploadDir string
	DryRun    bool
	// Batch is how many orphans are removed after one read of the rows
	// added meanwhile (DefaultSweepBatch).
	Batch int
	Log   *slog.Logger
	// Orphan, if set, is called for each orphan found, before it is
	// removed (or, in a dry run, instead).
	Orphan func(path string) error
	// TempDir is where the sweep may spill its set of the table's files
	// when it is too large for memory; "" means the system's.
	TempDir string
}

// SweepReport is what a sweep did. Its JSON form is the --json output.
type SweepReport struct {
	DryRun    bool   `json:"dry_run"`
	UploadDir string `json:"upload_dir"`
	Grace     string `json:"grace"`
	// Scanned counts the files looked at; Orphans those that no row uses
	// and that are older than the grace period; Removed those removed.
	Scanned  int64          `json:"scanned"`
	Orphans  int64          `json:"orphans"`
	Removed  int64          `json:"removed"`
	Failed   int64          `json:"failed"`
	Failures []SweepFailure `json:"failures"`
}

// SweepFailure is an orphan that could not be removed.
type SweepFailure struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// ErrNoUploadDir means the directory to sweep does not exist.
var ErrNoUploadDir = errors.New("upload directory not found")

// Sweep removes the files under MEDIA_ROOT/UploadDir that no row
// references and that are older than the grace period.
//
// It first reads every row's file once (short reads, 8 bytes a row), then
// walks the upload directory a chunk of entries at a time, never following
// a symlink. Files are compared by what they are (fs.Keys), so that an
// upload directory given through an alias, or a row that names a file
// through a symlink, spares the file. Before each chunk of removals it
// reads the rows added since. In a dry run nothing is removed.
func Sweep(ctx context.Context, db store.DB, media afero.Fs, opt SweepOptions) (*SweepReport, error) {
	rep := &SweepReport{DryRun: opt.DryRun, Failures: []SweepFailure{}}
	opt, err := opt.resolve()
	if err == nil && media == nil {
		err = fmt.Errorf("%w: no media file system", ErrOptions)
	}
	if err != nil {
		return rep, err
	}
	rep.UploadDir, rep.Grace = opt.UploadDir, opt.Grace.String()
	dir, err := fs.CleanPath(strings.TrimRight(opt.UploadDir, "/"))
	if err != nil {
		return rep, fmt.Errorf("upload dir %q: %w", opt.UploadDir, err)
	}
	pdb, err := batches(db)
	if err != nil {
		return rep, err
	}
	if fi, err := media.Stat(dir); err != nil || !fi.IsDir() {
		return rep, fmt.Errorf("%w: %s", ErrNoUploadDir, dir)
	}
	keys := fs.NewKeys(media)
	defer keys.Close()
	refs, err := loadReferences(ctx, pdb, keys, spill{dir: opt.TempDir})
	if err != nil {
		return rep, err
	}
	defer refs.close()
	s := &sweeper{db: pdb, media: media, opt: opt, rep: rep, refs: refs, keys: keys}
	if err := walkFiles(ctx, media, dir, s.visit); err != nil {
		return rep, err
	}
	return rep, s.flush(ctx)
}

// resolve checks o and fills in its defaults. In what it returns, a zero
// Grace means none.
func (o SweepOptions) resolve() (SweepOptions, error) {
	if o.Grace < None || o.Batch < 0 {
		return o, fmt.Errorf("%w: Grace %s, Batch %d: a duration is 0 (the default), positive, or None",
			ErrOptions, o.Grace, o.Batch)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Grace = orNone(o.Grace, DefaultSweepGrace)
	o.Batch = or(o.Batch, DefaultSweepBatch)
	o.UploadDir = or(o.UploadDir, DefaultUploadDir)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

type sweeper struct {
	db      protocol.DB
	media   afero.Fs
	opt     SweepOptions
	rep     *SweepReport
	refs    *references
	keys    fs.Keys
	pending []string // orphans waiting for the next write transaction
}

func (s *sweeper) visit(ctx context.Context, p string, fi iofs.FileInfo) error {
	s.rep.Scanned++
	if fs.Fresh(fi, s.opt.Now, s.opt.Grace) {
		return nil
	}
	if used, err := s.refs.has(s.keys, p); used || err != nil {
		return err
	}
	s.rep.Orphans++
	if s.opt.Orphan != nil {
		if err := s.opt.Orphan(p); err != nil {
			return err
		}
	}
	if s.opt.DryRun {
		return nil
	}
	s.pending = append(s.pending, p)
	if len(s.pending) < s.opt.Batch {
		return nil
	}
	return s.flush(ctx)
}

// flush removes the pending orphans, sparing any that a row added since
// the scan now uses. It holds no lock while it removes files: an orphan is
// older than the grace period, and the rows added since the scan, read
// just before, are the only ones that could have come to name it.
func (s *sweeper) flush(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	defer func() { s.pending = s.pending[:0] }()
	if err := s.refs.readNew(ctx, s.db, s.keys); err != nil {
		return err
	}
	var orphans []string
	for _, p := range s.pending {
		used, err := s.refs.has(s.keys, p)
		if err != nil {
			return err
		}
		if !used {
			orphans = append(orphans, p)
		}
	}
	for i, err := range removeNow(s.media, orphans) {
		if err != nil {
			s.opt.Log.Error("cannot remove orphan file", "path", orphans[i], "error", err)
			addFailure(&s.rep.Failed, &s.rep.Failures, SweepFailure{Path: orphans[i], Error: err.Error()})
			continue
		}
		s.rep.Removed++
	}
	return nil
}

// walkFiles calls fn for every regular file under dir, reading each
// directory a chunk at a time so that a huge directory does not have to fit
// in memory. It never follows a symlink, and never offers one: the web app
// writes regular files, so a link is the operator's (an archive disk, an
// alias), never an orphan upload.
func walkFiles(ctx context.Context, fsys afero.Fs, dir string, fn func(context.Context, string, iofs.FileInfo) error) error {
	stack := []string{dir}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := fsys.Open(d)
		if err != nil {
			return fmt.Errorf("walk %s: %w", d, err)
		}
		for {
			entries, err := f.Readdir(1000)
			for _, fi := range entries {
				p := path.Join(d, fi.Name())
				switch {
				case fi.IsDir():
					stack = append(stack, p)
				case fi.Mode().IsRegular():
					if err := fn(ctx, p, fi); err != nil {
						f.Close()
						return err
					}
				}
			}
			if errors.Is(err, io.EOF) || len(entries) == 0 && err == nil {
				break
			}
			if err != nil {
				f.Close()
				return fmt.Errorf("walk %s: %w", d, err)
			}
		}
		f.Close()
	}
	return nil
}
