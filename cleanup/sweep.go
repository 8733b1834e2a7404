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
	"github.com/cleanup-stale/cleanup-stale/store"
)

// Defaults of an orphan sweep.
const (
	// DefaultSweepBatch is how many files a sweep judges with one scan of
	// the table.
	DefaultSweepBatch = maxFilesPerBatch
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
	// Batch is how many files one scan of the table judges
	// (DefaultSweepBatch).
	Batch int
	Log   *slog.Logger
	// Orphan, if set, is called for each orphan found, before it is
	// removed (or, in a dry run, instead).
	Orphan func(path string) error
	// TempDir is where the sweep may spill its set of the journal's files
	// when it is too large for memory; "" means the system's.
	TempDir string
	// Workers is how many files are removed at once (DefaultWorkers).
	Workers int
}

// SweepReport is what a sweep did. Its JSON form is the --json output.
type SweepReport struct {
	DryRun    bool   `json:"dry_run"`
	UploadDir string `json:"upload_dir"`
	Grace     string `json:"grace"`
	// Scanned counts the files looked at; Listed those that the journal
	// lists (they wait for their grace, and are not orphans yet); Orphans
	// those that no row uses and that are older than the grace period;
	// Removed those removed.
	Scanned  int64          `json:"scanned"`
	Listed   int64          `json:"listed"`
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
// references, that are older than the grace period, and that the journal j
// does not list: a file waiting out its file grace is not an orphan yet.
// For a real sweep, j is the database's journal, opened (and so locked,
// against a cleanup run at the same time) by OpenJournal; a dry run gives
// one opened by ReadOnlyJournal.
//
// It walks the upload directory a chunk of entries at a time, never
// following a symlink, and takes the files through the removal gate a
// chunk at a time (see gate): one scan of the table asks which rows name
// them, by every spelling that reaches them, and a file goes only if it is
// still the file found. In a dry run nothing is removed.
func Sweep(ctx context.Context, db store.DB, media afero.Fs, j *Journal, opt SweepOptions) (*SweepReport, error) {
	rep := &SweepReport{DryRun: opt.DryRun, Failures: []SweepFailure{}}
	opt, err := opt.resolve()
	if err == nil && media == nil {
		err = fmt.Errorf("%w: no media file system", ErrOptions)
	}
	if err == nil {
		err = j.opened()
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
	listed, err := j.listed(spill{dir: opt.TempDir})
	if err != nil {
		return rep, err
	}
	defer listed.close()
	s := &sweeper{gate: &gate{db: pdb, media: media, workers: opt.Workers, unclean: true}, opt: opt, rep: rep, listed: listed}
	defer s.gate.withTree(j, opt.Log.Warn)()
	if err := walkFiles(ctx, media, dir, s.visit); err != nil {
		return rep, err
	}
	return rep, s.flush(ctx)
}

// resolve checks o and fills in its defaults. In what it returns, a zero
// Grace means none.
func (o SweepOptions) resolve() (SweepOptions, error) {
	if o.Grace < None || o.Batch < 0 || o.Workers < 0 {
		return o, fmt.Errorf("%w: Grace %s, Batch %d: a duration is 0 (the default), positive, or None",
			ErrOptions, o.Grace, o.Batch)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Grace = orNone(o.Grace, DefaultSweepGrace)
	o.Batch = or(o.Batch, DefaultSweepBatch)
	o.Workers = or(o.Workers, DefaultWorkers)
	o.UploadDir = or(o.UploadDir, DefaultUploadDir)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

type sweeper struct {
	gate    *gate
	opt     SweepOptions
	rep     *SweepReport
	listed  *listedSet
	pending []string // files to judge with the next scan
}

func (s *sweeper) visit(ctx context.Context, p string, fi iofs.FileInfo) error {
	s.rep.Scanned++
	if fs.Fresh(fi, s.opt.Now, s.opt.Grace) {
		return nil
	}
	if listed, err := s.listed.paths.has(p); listed || err != nil {
		s.rep.Listed += b2i(listed)
		return err
	}
	if s.pending = append(s.pending, p); len(s.pending) < s.opt.Batch {
		return nil
	}
	return s.flush(ctx)
}

// flush takes the files found since the last flush through the gate: it
// notes what each is, spares those that the journal lists under another
// spelling, asks the table which rows name them, and removes the orphans
// (in a dry run, only reports them).
func (s *sweeper) flush(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	defer func() { s.pending = s.pending[:0] }()
	var chunk []entry
	for i, in := range fs.Inspect(ctx, s.gate.media, s.pending) {
		listed, err := s.listed.ids.has(in.ID.String())
		if err != nil {
			return err
		}
		switch {
		case in.ID.IsMissing():
		case listed:
			s.rep.Listed++
		default:
			chunk = append(chunk, entry{path: s.pending[i], id: in.ID})
		}
	}
	out := make([]verdict, len(chunk))
	if err := s.gate.judge(ctx, chunk, out); err != nil {
		return err
	}
	var orphans []entry
	for i, e := range chunk {
		if out[i].used || out[i].unknown {
			continue
		}
		s.rep.Orphans++
		if s.opt.Orphan != nil {
			if err := s.opt.Orphan(e.path); err != nil {
				return err
			}
		}
		orphans = append(orphans, e)
	}
	if s.opt.DryRun {
		return nil
	}
	// Through the whole gate again: a row committed since the judgment
	// above keeps its file.
	verdicts, err := s.gate.pass(ctx, orphans)
	if err != nil {
		return err
	}
	for i, v := range verdicts {
		switch {
		case v.used, v.unknown:
		case v.result.Outcome == fs.Removed:
			s.rep.Removed++
		case v.result.Outcome == fs.Failed:
			s.opt.Log.Error("cannot remove orphan file", "path", orphans[i].path, "error", v.result.Err)
			addFailure(&s.rep.Failed, &s.rep.Failures, SweepFailure{Path: orphans[i].path, Error: v.result.Err.Error()})
		case v.result.Outcome == fs.Replaced:
			s.opt.Log.Warn("orphan written again since it was found; left in place", "path", orphans[i].path)
		}
	}
	return nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
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
