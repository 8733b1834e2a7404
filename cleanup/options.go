package cleanup

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Defaults that keep the web app responsive during a big cleanup (see
// docs/performance.md). A write transaction aims at
// DefaultTxTarget; DefaultPause after it is long enough for a writer that
// polls with SQLite's busy handler (sleeps of 1, 2, 5, 10, 15, 20, 25, 25
// ms ...) to find the lock free before it has waited 100 ms.
const (
	DefaultTxTarget  = 50 * time.Millisecond
	DefaultPause     = 25 * time.Millisecond
	DefaultBatchSize = 1000
	DefaultWorkers   = 8
	// DefaultLockShare is the largest share of its time that a run holds
	// the lock while it works through rows with files. Such a run takes as
	// long as its files take to remove anyway, so spreading its
	// transactions over that time costs little; and a web app that begins
	// its transactions DEFERRED (Django's default) fails a request that
	// writes while the lock is held, so fewer of its requests fail.
	DefaultLockShare = 0.08
	// DefaultFileGrace is how long a file waits after its row is gone:
	// longer than the web app's requests live behind the usual servers (a
	// request that read a row before the deletion and saves it after it
	// ends within that time).
	DefaultFileGrace = time.Minute
)

// None, as a duration of Options or SweepOptions, turns a wait off: Pause:
// None is no pause between transactions; FileGrace: None removes files
// right after their rows' commit; SweepOptions.Grace: None spares no file
// for its age. Every zero value means the default instead.
const None time.Duration = -1

// ErrOptions means that Options or SweepOptions hold a value that makes
// no sense, such as a negative TTL. Nothing was done.
var ErrOptions = errors.New("invalid options")

// Bounds of the adaptive batch size, in rows of each stale status.
const (
	minBatch = 50
	maxBatch = 50000
)

// maxFilesPerBatch bounds the rows with a file in one batch: they are held
// in memory, written to the journal, and removed before the next batch
// but one.
const maxFilesPerBatch = 5000

// Options says what a run deletes, and how. The zero value of every field
// is useful: it means the default (the command line's), and Now's is the
// clock. A wait is turned off with None. A value that makes no sense (a
// negative TTL, a share of 2) is ErrOptions.
type Options struct {
	// TTLHours is how long, in hours, a guest may stay unconfirmed and a
	// rejected submission closed before it is stale: 0 or more.
	TTLHours int
	// Now is the instant that staleness is judged at; zero is the clock.
	Now time.Time
	// BatchSize is how many rows of each stale status the first write
	// transaction takes (DefaultBatchSize). Later ones grow or shrink it
	// so that each takes about TxTarget.
	BatchSize int
	// TxTarget is how long a write transaction aims to hold the lock
	// (DefaultTxTarget).
	TxTarget time.Duration
	// Pause is how long the run leaves the write lock to others between
	// transactions (DefaultPause); None for no pause.
	Pause time.Duration
	// Workers is how many files are removed at once (DefaultWorkers).
	Workers int
	// LockShare caps the share of the time that the run holds the lock
	// while batches have files (DefaultLockShare): after such a batch, the
	// pause lasts at least long enough to keep the share of lock time down
	// to it. 1 means no cap.
	LockShare float64
	// FileGrace is how long a file waits in the journal after its row's
	// deletion before a run may remove it (DefaultFileGrace): the web app
	// can write a row it read before the deletion back (Django's save()),
	// file name included, and such a row must find its file. None removes
	// files right after the commit (a web app that is stopped; tests).
	FileGrace time.Duration
	// TempDir is where a run may spill its set of the table's files when
	// it is too large for memory (a table of millions of rows); "" is the
	// system's temporary directory.
	TempDir string
	// Log receives one line per row or file left behind. Nil discards.
	Log *slog.Logger
	// Progress, if set, is called after each committed batch.
	Progress func(r *Report)

	hashLimit int // hashes a run holds in memory before it spills; tests lower it
}

// resolve checks o and fills in its defaults. In what it returns, a zero
// Pause or FileGrace means none.
func (o Options) resolve() (Options, error) {
	switch {
	case o.TTLHours < 0:
		return o, fmt.Errorf("%w: TTLHours %d: must be 0 or more", ErrOptions, o.TTLHours)
	case int64(o.TTLHours) > maxTTLHours:
		return o, fmt.Errorf("%w: TTLHours %d: must be at most %d", ErrOptions, o.TTLHours, maxTTLHours)
	case o.BatchSize < 0, o.Workers < 0:
		return o, fmt.Errorf("%w: BatchSize %d, Workers %d: must not be negative", ErrOptions, o.BatchSize, o.Workers)
	case o.TxTarget < 0:
		return o, fmt.Errorf("%w: TxTarget %s: must not be negative", ErrOptions, o.TxTarget)
	case o.LockShare < 0 || o.LockShare > 1:
		return o, fmt.Errorf("%w: LockShare %g: must be more than 0 and at most 1", ErrOptions, o.LockShare)
	case o.Pause < None, o.FileGrace < None:
		return o, fmt.Errorf("%w: Pause %s, FileGrace %s: a duration is 0 (the default), positive, or None",
			ErrOptions, o.Pause, o.FileGrace)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.BatchSize = or(o.BatchSize, DefaultBatchSize)
	o.TxTarget = or(o.TxTarget, DefaultTxTarget)
	o.Workers = or(o.Workers, DefaultWorkers)
	o.LockShare = or(o.LockShare, DefaultLockShare)
	o.Pause = orNone(o.Pause, DefaultPause)
	o.FileGrace = orNone(o.FileGrace, DefaultFileGrace)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// maxTTLHours keeps now - ttl within what time.Duration can hold.
const maxTTLHours = math.MaxInt64 / int64(time.Hour)

// or is v, or def when v is zero.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// orNone is d, def when d is zero, and zero when d is None.
func orNone(d, def time.Duration) time.Duration {
	if d == None {
		return 0
	}
	return or(d, def)
}
