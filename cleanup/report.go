package cleanup

import (
	"time"
)

// maxListedFailures bounds Report.Failures and SweepReport.Failures, so
// that a run over a media tree that refuses every removal still runs in
// constant memory. Every failure is logged as it happens and counted
// either way.
const maxListedFailures = 1000

// addFailure counts one failure and lists it while the list has room.
func addFailure[F any](count *int64, list *[]F, f F) {
	*count++
	if len(*list) < maxListedFailures {
		*list = append(*list, f)
	}
}

// Report is what a run did. Its JSON form is the --json output.
type Report struct {
	DryRun   bool      `json:"dry_run"`
	TTLHours int       `json:"ttl_hours"`
	Cutoff   time.Time `json:"cutoff"`
	// Stale is how many stale rows the run found.
	Stale int64 `json:"stale"`
	// Deleted is how many rows it deleted. Stale - Deleted rows stay, each
	// one a failure.
	Deleted int64 `json:"deleted"`
	// Failed counts the rows and files left behind; Failures lists the
	// first maxListedFailures of them.
	Failed   int64     `json:"failed"`
	Failures []Failure `json:"failures"`
	// LockHeldMS is how long the run held the database's write lock in
	// all, in milliseconds: what the web app feels.
	LockHeldMS float64 `json:"lock_held_ms"`
	// Pending counts the files that earlier runs left in the journal and
	// that were due: this run finished them at its start (or, in a dry run,
	// the next real run will).
	Pending int64 `json:"pending"`
	// Waiting counts the files that the journal still lists when the run
	// ends: files whose rows are gone, waiting for their grace (see
	// Options.FileGrace), or for a retry. NextDue is when the next run can
	// remove the first of them; zero when none waits.
	Waiting int64     `json:"waiting"`
	NextDue time.Time `json:"next_due,omitzero"`
}

// Failure is something the run had to leave: a stale row whose file could
// not be removed or whose path is unsafe (the row stays), or a file that
// could not be removed after its row was deleted (the journal keeps it for
// the next run; Slug is empty for a file that an interrupted run left).
type Failure struct {
	Slug  string `json:"slug"`
	Path  string `json:"path"`
	Error string `json:"error"`
}

func (r *Report) addLockHeld(d time.Duration) {
	r.LockHeldMS += float64(d.Microseconds()) / 1000
}

func (r *Report) addFailure(f Failure) { addFailure(&r.Failed, &r.Failures, f) }

// Cutoff is the instant before which a submission is stale: now minus
// ttlHours, to the microsecond, as the web app's clock has it.
func Cutoff(now time.Time, ttlHours int) time.Time {
	return now.UTC().Truncate(time.Microsecond).Add(-time.Duration(ttlHours) * time.Hour)
}
