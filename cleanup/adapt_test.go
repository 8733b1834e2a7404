package cleanup

import (
	"testing"
	"time"
)

// TestAdaptKeepsTransactionsShort: the batch size follows the measured
// transaction time towards TxTarget: it shrinks at once after a long
// transaction, grows at most fourfold after a short one, and stays within
// [minBatch, maxBatch], so a transaction's length stays bounded whatever
// the disk does.
func TestAdaptKeepsTransactionsShort(t *testing.T) {
	r := &runner{opt: Options{TxTarget: 40 * time.Millisecond}, size: 1000}
	for _, step := range []struct {
		took time.Duration
		want int
	}{
		{20 * time.Millisecond, 2000}, // half the target: double
		{time.Millisecond, 8000},      // far under: only fourfold
		{40 * time.Millisecond, 8000}, // on target: stay
		{80 * time.Millisecond, 4000}, // twice the target: halve
		{400 * time.Millisecond, 400}, // ten times: a tenth, at once
		{50 * time.Millisecond, 320},  // proportional in between
		{0, 1280},                     // too fast to measure: fourfold
	} {
		r.adapt(step.took)
		if r.size != step.want {
			t.Fatalf("after a %v transaction: size %d, want %d", step.took, r.size, step.want)
		}
	}
	r.adapt(time.Hour)
	if r.size != minBatch {
		t.Errorf("floor: %d, want %d", r.size, minBatch)
	}
	for range 20 {
		r.adapt(time.Microsecond)
	}
	if r.size != maxBatch {
		t.Errorf("ceiling: %d, want %d", r.size, maxBatch)
	}
}
