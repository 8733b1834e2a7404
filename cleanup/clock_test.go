package cleanup

import (
	"testing"
	"time"
)

// TestElapsedOnBothClocks: within one boot, a grace has passed only when
// both clocks say so: a wall clock stepped forward (NTP after a Raspberry
// Pi booted with an old time) does not end it early. Across boots, or
// without a boot id, the wall clock alone counts, and Journal.restamp
// starts a grace afresh at the first run of a new boot.
func TestElapsedOnBothClocks(t *testing.T) {
	wall := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	gone := instant{wall: wall, boot: "b1", up: 100 * time.Second}
	for _, tc := range []struct {
		name string
		now  instant
		want bool
	}{
		{"a minute later on both", instant{wall: wall.Add(time.Minute), boot: "b1", up: 160 * time.Second}, true},
		{"wall stepped 3 days forward, 2 s on the boot clock", instant{wall: wall.Add(72 * time.Hour), boot: "b1", up: 102 * time.Second}, false},
		{"wall stepped back, a minute on the boot clock", instant{wall: wall.Add(-time.Hour), boot: "b1", up: 160 * time.Second}, false},
		{"30 s on both", instant{wall: wall.Add(30 * time.Second), boot: "b1", up: 130 * time.Second}, false},
		{"another boot: the wall clock alone", instant{wall: wall.Add(time.Minute), boot: "b2", up: time.Second}, true},
	} {
		if got := elapsed(gone, tc.now, time.Minute); got != tc.want {
			t.Errorf("%s: elapsed = %v, want %v", tc.name, got, tc.want)
		}
	}
	noBoot := instant{wall: wall}
	if !elapsed(noBoot, instant{wall: wall.Add(time.Minute)}, time.Minute) || elapsed(noBoot, instant{wall: wall.Add(time.Second)}, time.Minute) {
		t.Error("without a boot clock, the wall clock alone counts")
	}
}

// TestInstantText: what format writes, parseInstant reads back; a version
// 2 time alone has no boot; anything else is refused.
func TestInstantText(t *testing.T) {
	for _, in := range []instant{
		{wall: time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.UTC), boot: "32742333-ec4b-4da9-aa6b-d627d2e8f61e", up: 1876*time.Second + 536445826},
		{wall: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)},
	} {
		back, err := parseInstant(in.format())
		if err != nil || back != in {
			t.Errorf("parseInstant(%q) = %+v, %v; want %+v", in.format(), back, err, in)
		}
	}
	for _, bad := range []string{"", "yesterday", "2026-11-25T12:00:00Z boot=", "2026-11-25T12:00:00Z boot=ABC up=1.000000000",
		"2026-11-25T12:00:00Z boot=ab up=1", "2026-11-25T12:00:00Z boot=ab up=-1.000000000", "2026-11-25T12:00:00Z boot=ab up=99999999999999.000000000",
		"2026-11-25T12:00:00Z boot=ab", "2026-11-25T12:00:00Z up=1.000000000 boot=ab"} {
		if in, err := parseInstant(bad); err == nil {
			t.Errorf("parseInstant(%q) = %+v, want an error", bad, in)
		}
	}
}
