package app

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/store"
)

func statsCommand() *cli.Command {
	return &cli.Command{
		Name:      "stats",
		Usage:     "count rows per status and the stale ones, read-only",
		UsageText: "cleanup-stale [global options] stats [--json]",
		Description: "Counts the submissions per status, how many are stale now (for --ttl-hours\n" +
			"and --now), and names the one that has been stale longest. It opens the\n" +
			"database read-only and never touches MEDIA_ROOT.",
		Flags:        globalFlags(false),
		Action:       statsAction,
		OnUsageError: onUsageError,
	}
}

func statsAction(c *cli.Context) error {
	cfg, err := commandConfig(c)
	if err != nil {
		return err
	}
	db, err := cfg.openDB(c.Context, true)
	if err != nil {
		return err
	}
	defer db.Close()
	now := cfg.clock()
	cutoff := cleanup.Cutoff(now, cfg.ttlHours)
	st, err := db.Stats(c.Context, cutoff)
	if err != nil {
		return runError{cfg.explain(err)}
	}
	left, err := cfg.journalSummary(db, nil)
	if err != nil {
		return err
	}
	others, err := cfg.otherJournals(db)
	if err != nil {
		return err
	}
	if cfg.json {
		err = printStatsJSON(c.App.Writer, st, left, others, cfg.ttlHours, cutoff, now)
	} else {
		err = printStats(c.App.Writer, st, left, others, cfg.ttlHours, cutoff, now)
	}
	if err != nil {
		return runError{err}
	}
	return nil
}

func printStats(w io.Writer, st *store.Stats, left cleanup.JournalSummary, others []cleanup.OtherJournal, ttlHours int, cutoff, now time.Time) error {
	var total, stale int64
	fmt.Fprintln(w, "Submissions by status:")
	statuses := sortedKeys(st.ByStatus)
	for _, s := range statuses {
		fmt.Fprintf(w, "  %-12s %8d\n", s, st.ByStatus[s])
		total += st.ByStatus[s]
	}
	fmt.Fprintf(w, "  %-12s %8d\n", "total", total)
	fmt.Fprintf(w, "Stale (older than %d h, before %s):\n", ttlHours, cutoff.Format(timeJSON))
	for _, s := range store.StaleStatuses() {
		fmt.Fprintf(w, "  %-12s %8d\n", s, st.Stale[s])
		stale += st.Stale[s]
	}
	fmt.Fprintf(w, "  %-12s %8d\n", "total", stale)
	if st.Oldest == nil {
		fmt.Fprintln(w, "Oldest stale: none")
	} else {
		fmt.Fprintf(w, "Oldest stale: %s (%s), %s %s, %s ago\n", st.Oldest.Slug, st.Oldest.Status,
			sinceVerb(st.Oldest.Status), st.Since.Format(timeJSON), age(now.Sub(st.Since)))
	}
	fmt.Fprintf(w, "Files whose rows are gone, due for removal by the next run: %d\n", left.Due)
	waiting := fmt.Sprintf("Files whose rows are gone, waiting for their grace: %d", left.Waiting)
	if left.Waiting > 0 {
		waiting += fmt.Sprintf(" (the first is due at %s)", left.NextDue.UTC().Format(time.RFC3339))
	}
	_, err := fmt.Fprintln(w, waiting)
	for _, o := range others {
		switch {
		case o.Error != "":
			_, err = fmt.Fprintf(w, "Another journal here: %s: it cannot be read or trusted: %s\n", o.Path, o.Error)
		case o.Adoptable:
			_, err = fmt.Fprintf(w, "Another journal here: %s, %d file(s) under media root %q: this database's; the next real run on that media root takes them\n", o.Path, o.Files, o.MediaRoot)
		default:
			_, err = fmt.Fprintf(w, "Another journal here: %s, %d file(s) under media root %q: no run on this database claims it\n", o.Path, o.Files, o.MediaRoot)
		}
	}
	return err
}

// sinceVerb says what happened at the time that made a status stale:
// "created" for created_at, "closed" for closed_at.
func sinceVerb(status string) string {
	for _, r := range store.StaleRules() {
		if r.Status == status {
			return strings.TrimSuffix(r.Since, "_at")
		}
	}
	return "changed"
}

func printStatsJSON(w io.Writer, st *store.Stats, left cleanup.JournalSummary, others []cleanup.OtherJournal, ttlHours int, cutoff, now time.Time) error {
	if others == nil {
		others = []cleanup.OtherJournal{}
	}
	out := struct {
		TTLHours    int                    `json:"ttl_hours"`
		Cutoff      string                 `json:"cutoff"`
		ByStatus    map[string]int64       `json:"by_status"`
		Stale       map[string]int64       `json:"stale"`
		OldestStale *string                `json:"oldest_stale"`
		OldestSlug  *string                `json:"oldest_stale_slug"`
		OldestAge   *float64               `json:"oldest_stale_age_seconds"`
		Pending     int64                  `json:"pending"`
		Waiting     int64                  `json:"waiting"`
		NextDue     time.Time              `json:"next_due,omitzero"`
		Others      []cleanup.OtherJournal `json:"other_journals"`
	}{TTLHours: ttlHours, Cutoff: cutoff.Format(timeJSON), ByStatus: st.ByStatus, Stale: st.Stale,
		Pending: left.Due, Waiting: left.Waiting, NextDue: left.NextDue, Others: others}
	if st.Oldest != nil {
		since, slug, secs := st.Since.Format(timeJSON), st.Oldest.Slug, now.Sub(st.Since).Seconds()
		out.OldestStale, out.OldestSlug, out.OldestAge = &since, &slug, &secs
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// age renders a duration the way people say it: 3d4h, 5h12m, 40s.
func age(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, d%time.Hour/time.Minute)
	default:
		return d.String()
	}
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
