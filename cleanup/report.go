// Package cleanup is the job itself: it joins the database (store) and the
// uploads (fs) in the order that keeps them consistent whatever crashes.
package cleanup

import (
	"time"
)

// maxListedFailures bounds Report.Failures, so that a run over a media tree
// that refuses every removal still runs in constant memory. Every failure is
// logged as it happens and counted in Report.Failed either way.
const maxListedFailures = 1000

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
	// Failed counts the rows left behind; Failures lists the first
	// maxListedFailures of them.
	Failed   int64     `json:"failed"`
	Failures []Failure `json:"failures"`
}

// Failure is a stale row that the run had to leave: its file could not be
// removed, or its path is unsafe.
type Failure struct {
	Slug  string `json:"slug"`
	Path  string `json:"path"`
	Error string `json:"error"`
}

func (r *Report) addFailure(f Failure) {
	r.Failed++
	if len(r.Failures) < maxListedFailures {
		r.Failures = append(r.Failures, f)
	}
}

// Cutoff is the instant before which a submission is stale: now minus
// ttlHours, to the microsecond, as the web app's clock has it.
func Cutoff(now time.Time, ttlHours int) time.Time {
	return now.UTC().Truncate(time.Microsecond).Add(-time.Duration(ttlHours) * time.Hour)
}
