package store

import (
	"testing"
	"time"
)

// TestFormatTime: the web app's ORM writes microseconds, and leaves the
// fraction out when it is zero; the stale query compares that text.
func TestFormatTime(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), "2026-11-24 12:00:00"},
		{time.Date(2026, 11, 24, 12, 0, 0, 1000, time.UTC), "2026-11-24 12:00:00.000001"},
		{time.Date(2026, 11, 24, 11, 59, 59, 999999000, time.UTC), "2026-11-24 11:59:59.999999"},
		{time.Date(2026, 11, 24, 12, 0, 0, 500000000, time.UTC), "2026-11-24 12:00:00.500000"},
		{time.Date(2026, 11, 24, 12, 0, 0, 999, time.UTC), "2026-11-24 12:00:00"}, // below a microsecond
		{time.Date(2026, 11, 24, 13, 0, 0, 0, time.FixedZone("CET", 3600)), "2026-11-24 12:00:00"},
	} {
		if got := FormatTime(tc.in); got != tc.want {
			t.Errorf("FormatTime(%v) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := ParseTime(tc.want)
		if err != nil || !back.Equal(tc.in.Truncate(time.Microsecond)) {
			t.Errorf("ParseTime(%q) = %v, %v", tc.want, back, err)
		}
	}
}

// TestTextOrderIsTimeOrder: the format sorts as text in time order, which
// is what makes `created_at < cutoff` right, fraction or no fraction.
func TestTextOrderIsTimeOrder(t *testing.T) {
	base := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	steps := []time.Duration{-time.Second, -time.Microsecond, 0, time.Microsecond, 500 * time.Millisecond, time.Second}
	for _, a := range steps {
		for _, b := range steps {
			ta, tb := base.Add(a), base.Add(b)
			if (FormatTime(ta) < FormatTime(tb)) != ta.Before(tb) {
				t.Errorf("%q < %q disagrees with time order", FormatTime(ta), FormatTime(tb))
			}
		}
	}
}
