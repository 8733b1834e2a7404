package store

import (
	"strings"
	"time"
)

// FormatTime writes t the way the web app's ORM (Django on SQLite) stores a
// datetime: UTC, "YYYY-MM-DD HH:MM:SS.ffffff", with the fraction left out
// when it is zero. Timestamps in that form sort as text in time order, so
// the stale query compares text, exactly as the web app's own command does.
//
// The fraction must be left out when zero: "12:00:00.000000" sorts after a
// stored "12:00:00", which would make a row stale at exactly the cutoff.
func FormatTime(t time.Time) string {
	s := t.UTC().Truncate(time.Microsecond).Format("2006-01-02 15:04:05.000000")
	return strings.TrimSuffix(s, ".000000")
}

// ParseTime reads a timestamp in the web app's format as UTC.
func ParseTime(s string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02 15:04:05.999999", s, time.UTC)
}
