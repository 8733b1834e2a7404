package app

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestValueMessages: a value that does not parse, on the command line or
// in the environment, gets one line that names the flag (or the variable),
// says what it takes and gives an example, exit 2, nothing else. They used
// to say "parse error", or show Go's parser ("strconv.ParseInt: parsing
// \"48h\": invalid syntax").
func TestValueMessages(t *testing.T) {
	dir := install(t)
	db := filepath.Join(dir, "db.sqlite3")
	for _, c := range []struct {
		env  string // NAME=VALUE, or ""
		args []string
		want string
	}{
		{"", []string{"--every", "5"}, "--every 5: not a duration; use a unit, like 5m or 30s"},
		{"", []string{"--every=5"}, "--every 5: not a duration; use a unit, like 5m or 30s"},
		{"", []string{"--ttl-hours", "48h"}, "--ttl-hours 48h: not a whole number of hours; like 48"},
		{"", []string{"--ttl-hours", "1.5"}, "--ttl-hours 1.5: not a whole number of hours; like 48"},
		{"", []string{"--batch-size", "1e3"}, "--batch-size 1e3: not a whole number of rows; like 1000"},
		{"", []string{"--workers", "many"}, "--workers many: not a whole number; like 8"},
		{"", []string{"--lock-share", "8%"}, "--lock-share 8%: not a number; like 0.08"},
		{"", []string{"--busy-timeout", "5"}, "--busy-timeout 5: not a duration; use a unit, like 5s or 1m"},
		{"", []string{"--file-grace", "1 minute"}, `--file-grace 1 minute: not a duration; use a unit, like 1m or 90s (0 for none)`},
		{"", []string{"--dry-run=maybe"}, "--dry-run=maybe: not true or false; write --dry-run alone, or --dry-run=false"},
		{"", []string{"stats", "--busy-timeout", "5"}, "--busy-timeout 5: not a duration; use a unit, like 5s or 1m"},
		{"", []string{"health", "--max-age", "15"}, "--max-age 15: not a duration; use a unit, like 15m or 1h"},
		{"", []string{"sweep", "--grace", "24"}, "--grace 24: not a duration; use a unit, like 24h or 30m"},
		{"CLEANUP_STALE_TTL_HOURS=48h", nil, `CLEANUP_STALE_TTL_HOURS="48h": not a whole number of hours; like 48`},
		{"CLEANUP_STALE_EVERY=5", nil, `CLEANUP_STALE_EVERY="5": not a duration; use a unit, like 5m or 30s`},
		{"CLEANUP_STALE_JSON=yes", nil, `CLEANUP_STALE_JSON="yes": not true or false; like true or 1, false or 0`},
		{"CLEANUP_STALE_MAX_AGE=15", []string{"health"}, `CLEANUP_STALE_MAX_AGE="15": not a duration; use a unit, like 15m or 1h`},
		{"CLEANUP_STALE_LOCK_SHARE=a lot", nil, `CLEANUP_STALE_LOCK_SHARE="a lot": not a number; like 0.08`},
	} {
		t.Run(c.env+strings.Join(c.args, " "), func(t *testing.T) {
			if name, value, ok := strings.Cut(c.env, "="); ok {
				t.Setenv(name, value)
			}
			r := runCLI(t, append([]string{"--db", db}, c.args...)...)
			if r.code != 2 || r.stderr != "cleanup-stale: "+c.want+"\n" || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit 2 and %q", r.code, r.stdout, r.stderr, "cleanup-stale: "+c.want+"\n")
			}
		})
	}
}

// TestEveryValueFlagHasAHint: each flag that takes a number or a duration
// has its own words in valueHints, so that a new flag cannot fall back to
// Go's parser text.
func TestEveryValueFlagHasAHint(t *testing.T) {
	app := newApp(nil, nil)
	flags := app.Flags
	for _, c := range app.Commands {
		flags = append(flags, c.Flags...)
	}
	for _, f := range flags {
		switch f.(type) {
		case *cli.StringFlag, *cli.BoolFlag:
			continue
		}
		if _, ok := valueHints[f.Names()[0]]; !ok {
			t.Errorf("--%s (%T) has no hint", f.Names()[0], f)
		}
	}
}
