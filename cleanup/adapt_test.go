package cleanup

import (
	"testing"
	"time"
)

// TestAdaptKeepsTransactionsShort: the batch size follows the measured
// transaction time towards TxTarget, at most doubling or halving per step,
// and stays within [minBatch, maxBatch], so a transaction's length is
// bounded whatever the disk does.
func TestAdaptKeepsTransactionsShort(t *testing.T) {
	r := &runner{opt: Options{TxTarget: 50 * time.Millisecond}, size: 1000}
	for _, step := range []struct {
		took time.Duration
		want int
	}{
		{25 * time.Millisecond, 2000},  // half the target: double
		{5 * time.Millisecond, 4000},   // far under: still only double
		{50 * time.Millisecond, 4000},  // on target: stay
		{100 * time.Millisecond, 2000}, // twice the target: halve
		{time.Second, 1000},            // far over: still only halve
		{40 * time.Millisecond, 1250},  // proportional in between
		{0, 2500},                      // too fast to measure: double
	} {
		r.adapt(step.took)
		if r.size != step.want {
			t.Fatalf("after a %v transaction: size %d, want %d", step.took, r.size, step.want)
		}
	}
	for range 40 {
		r.adapt(10 * time.Second)
	}
	if r.size != minBatch {
		t.Errorf("floor: %d, want %d", r.size, minBatch)
	}
	for range 40 {
		r.adapt(time.Microsecond)
	}
	if r.size != maxBatch {
		t.Errorf("ceiling: %d, want %d", r.size, maxBatch)
	}
}
