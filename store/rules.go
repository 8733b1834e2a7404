package store

import (
	"slices"
	"strings"
)

// StaleRule says when rows of one status go stale: when the time in
// column Since is before the cutoff. A NULL there never matches.
type StaleRule struct {
	Status string
	Since  string
}

// staleRules is the one definition of staleness: identifying rows go stale
// by when they were created, rejected ones by when they were closed. Every
// query, label and test derives from it; no other status is ever touched.
// It is unexported, and read out through StaleRules as a copy, so that no
// caller can change what the tool deletes.
var staleRules = []StaleRule{
	{Status: "identifying", Since: "created_at"},
	{Status: "rejected", Since: "closed_at"},
}

// staleStatuses are the statuses of staleRules, in order.
var staleStatuses = func() []string {
	out := make([]string, len(staleRules))
	for i, r := range staleRules {
		out[i] = r.Status
	}
	return out
}()

// StaleRules returns the rules of staleness, one per stale status, in
// order: identifying rows go stale by created_at, rejected ones by
// closed_at. The slice is the caller's own.
func StaleRules() []StaleRule { return slices.Clone(staleRules) }

// StaleStatuses returns the statuses that go stale, in the order of
// StaleRules. The slice is the caller's own.
func StaleStatuses() []string { return slices.Clone(staleStatuses) }

// stalePredicate renders StaleRules as SQL, with cutoff the placeholder of
// the cutoff ("?1" or "$1"):
//
//	((status = 'identifying' AND created_at < ?1) OR (status = 'rejected' AND closed_at < ?1))
//
// The comparison is strict, and NULL compares as NULL, which never matches.
func stalePredicate(cutoff string) string { return stalePredicateOn("", cutoff) }

// stalePredicateOn is stalePredicate on the columns of table alias t.
func stalePredicateOn(t, cutoff string) string {
	if t != "" {
		t += "."
	}
	terms := make([]string, len(staleRules))
	for i, r := range staleRules {
		terms[i] = "(" + t + "status = '" + r.Status + "' AND " + t + r.Since + " < " + cutoff + ")"
	}
	return "(" + strings.Join(terms, " OR ") + ")"
}

// staleStatusList is StaleStatuses as an SQL list: 'identifying', 'rejected'.
// Queries say `status IN (...)` besides the predicate, so that the
// database walks the status index: an index seek, never a table scan.
var staleStatusList = "'" + strings.Join(staleStatuses, "', '") + "'"
