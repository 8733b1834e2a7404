package store_test

import (
	"fmt"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/store"
)

// TestStaleRulesCannotBeChanged: the rules of staleness read out as the
// caller's own copies: changing one changes nothing of what the tool
// deletes, and the statuses stay in step with the rules.
func TestStaleRulesCannotBeChanged(t *testing.T) {
	const want = "[{identifying created_at} {rejected closed_at}] [identifying rejected]"
	rules, statuses := store.StaleRules(), store.StaleStatuses()
	if got := fmt.Sprint(rules, statuses); got != want {
		t.Fatalf("rules %s, want %s", got, want)
	}
	rules[0] = store.StaleRule{Status: "done", Since: "created_at"}
	statuses[1] = "pending"
	if got := fmt.Sprint(store.StaleRules(), store.StaleStatuses()); got != want {
		t.Errorf("after a caller changed its copies: %s, want %s", got, want)
	}
}
