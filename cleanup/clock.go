package cleanup

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// instant is a moment as the journal records it: the wall clock, and,
// where the system has one, the boot it belongs to and the time since that
// boot on a clock that no one can step (CLOCK_BOOTTIME, which counts
// suspended time too). The wall clock alone cannot measure a grace: a
// Raspberry Pi boots with fake-hwclock's old time and NTP steps it
// forward minutes later, and a timer with Persistent=true fires at once;
// a wall-clock grace would then seem long past after two seconds.
type instant struct {
	wall time.Time
	boot string        // the boot's id; "" where the system has none
	up   time.Duration // since that boot
}

// clock tells the time as an instant.
type clock func() instant

// systemClock is the wall clock, with the boot clock where the system
// has one.
func systemClock() instant {
	boot, up := bootClock()
	return instant{wall: time.Now().Round(0), boot: boot, up: up}
}

// elapsed reports whether grace has passed from since to now: on the wall
// clock, and, within one boot, on the boot clock too. Across boots (or
// where one of the two has no boot id) the boot clock cannot say; such a
// moment is first stamped afresh (see Journal.restamp), so that a grace
// counts from the first run after a boot.
func elapsed(since, now instant, grace time.Duration) bool {
	if now.wall.Sub(since.wall) < grace {
		return false
	}
	if since.boot != "" && since.boot == now.boot && now.up-since.up < grace {
		return false
	}
	return true
}

// sameBoot reports whether a moment recorded at since can be measured
// from now: both on one boot, or neither with a boot id (a system without
// one, or a journal written before they were recorded, read where there
// is none either).
func sameBoot(since, now instant) bool { return since.boot == now.boot }

// format writes the instant as the journal's gone record has it:
//
//	2026-11-26T20:05:09.187002Z boot=32742333-ec4b-4da9-aa6b-d627d2e8f61e up=1876.536445826
func (t instant) format() string {
	s := t.wall.UTC().Format(time.RFC3339Nano)
	if t.boot != "" {
		s += fmt.Sprintf(" boot=%s up=%d.%09d", t.boot, t.up/time.Second, t.up%time.Second)
	}
	return s
}

// parseInstant reads what format wrote; a time alone (journal v2) has no
// boot.
func parseInstant(s string) (instant, error) {
	wall, rest, _ := strings.Cut(s, " ")
	w, err := time.Parse(time.RFC3339Nano, wall)
	if err != nil {
		return instant{}, err
	}
	t := instant{wall: w.UTC()}
	if rest == "" {
		return t, nil
	}
	boot, up, ok := strings.Cut(rest, " ")
	boot, okb := strings.CutPrefix(boot, "boot=")
	up, oku := strings.CutPrefix(up, "up=")
	if !ok || !okb || !oku || !validBootID(boot) {
		return instant{}, fmt.Errorf("not a boot and an uptime: %.60q", rest)
	}
	secs, nanos, ok := strings.Cut(up, ".")
	sec, err1 := strconv.ParseInt(secs, 10, 64)
	nsec, err2 := strconv.ParseInt(nanos, 10, 64)
	if !ok || len(nanos) != 9 || err1 != nil || err2 != nil || sec < 0 || sec > int64(maxUp/time.Second) {
		return instant{}, fmt.Errorf("not an uptime: %.30q", up)
	}
	t.boot, t.up = boot, time.Duration(sec)*time.Second+time.Duration(nsec)
	return t, nil
}

// maxUp bounds an uptime read back: a century, well within a Duration.
const maxUp = 100 * 366 * 24 * time.Hour

// validBootID accepts what the kernel gives: a UUID, in lowercase hex and
// dashes.
func validBootID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || r == '-') {
			return false
		}
	}
	return true
}
