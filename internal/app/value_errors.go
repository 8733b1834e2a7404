package app

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/urfave/cli/v2"
)

// A value that does not parse is the user's mistake to fix, so its message
// names the flag (or the environment variable) as it was written, says
// what it takes and gives an example, in the words of valueHints:
//
//	--every 5: not a duration; use a unit, like 5m or 30s
//	CLEANUP_STALE_TTL_HOURS="48h": not a whole number of hours; like 48
//
// urfave/cli says "parse error", or quotes Go's parser; explainValue
// rewrites its two messages. (They are urfave/cli v2's and the flag
// package's own words; TestValueMessages would notice if they changed.)

// valueHints says, for each flag that takes a number or a duration, what
// a value that does not parse lacks, with an example.
var valueHints = map[string]string{
	"every":        "not a duration; use a unit, like 5m or 30s",
	"busy-timeout": "not a duration; use a unit, like 5s or 1m",
	"file-grace":   "not a duration; use a unit, like 1m or 90s (0 for none)",
	"pause":        "not a duration; use a unit, like 25ms",
	"tx-target":    "not a duration; use a unit, like 50ms",
	"max-age":      "not a duration; use a unit, like 15m or 1h",
	"grace":        "not a duration; use a unit, like 24h or 30m",
	"ttl-hours":    "not a whole number of hours; like 48",
	"batch-size":   "not a whole number of rows; like 1000",
	"workers":      "not a whole number; like 8",
	"lock-share":   "not a number; like 0.08",
}

var (
	// cliValue is the flag package's: `invalid value "5" for flag -every:
	// parse error`, `invalid boolean value "x" for -dry-run: parse error`.
	cliValue = regexp.MustCompile(`^invalid (boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-([\w-]+): `)
	// envValue is urfave/cli's: `could not parse "48h" as int value from
	// environment variable "CLEANUP_STALE_TTL_HOURS" for flag ttl-hours: …`.
	envValue = regexp.MustCompile(`^could not parse ("(?:[^"\\]|\\.)*") as (\w+) value from environment variable "(\w+)" for flag ([\w-]+): `)
)

// explainValue returns err, a command line or environment that urfave/cli
// refused, in the words above when it is a value that does not parse.
func explainValue(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if m := cliValue.FindStringSubmatch(msg); m != nil {
		value, name := unquote(m[2]), m[3]
		if m[1] != "" { // a boolean: --dry-run=maybe
			return usageError{fmt.Errorf("--%s=%s: not true or false; write --%s alone, or --%s=false", name, value, name, name)}
		}
		if hint, ok := valueHints[name]; ok {
			return usageError{fmt.Errorf("--%s %s: %s", name, value, hint)}
		}
		return err
	}
	if m := envValue.FindStringSubmatch(msg); m != nil {
		value, kind, variable, name := m[1], m[2], m[3], m[4]
		if kind == "bool" {
			return usageError{fmt.Errorf("%s=%s: not true or false; like true or 1, false or 0", variable, value)}
		}
		if hint, ok := valueHints[name]; ok {
			return usageError{fmt.Errorf("%s=%s: %s", variable, value, hint)}
		}
	}
	return err
}

// unquote is s without Go's quotes, or s as it is.
func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

// onUsageError reports a bad command line in one line, without the help
// text that urfave/cli would print.
func onUsageError(_ *cli.Context, err error, _ bool) error {
	if explained := explainValue(err); explained != err {
		return explained
	}
	return usageError{err}
}
