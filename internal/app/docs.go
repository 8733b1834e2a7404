package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// The release packages carry a man page and shell completions; both are
// written from the command line's own definitions (internal/pkgfiles), so
// that they cannot drift from --help.

// ManPage returns cleanup-stale(1) in roff. It is written here rather than
// by urfave/cli's ToMan, whose Markdown step reads a usage's "[$VAR]
// (default: x)" as a link and drops both, and which names no environment
// variable.
func ManPage() string {
	a := newApp(nil, nil)
	a.Setup() // adds the help command and the --help and --version flags
	global := map[string]bool{}
	for _, f := range a.Flags {
		global[f.Names()[0]] = true
	}

	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line(`.TH %s 1 "" "%s" "User Commands"`, roff(strings.ToUpper(a.Name)), roff(a.Name))
	line(".nh")   // no hyphenation: flag names and variables copy as typed
	line(".ad l") // ragged right
	line(".SH NAME")
	line(`%s \- %s`, roff(a.Name), roff(a.Usage))
	line(".SH SYNOPSIS")
	line(`\fB%s\fR [\fIOPTIONS\fR]`, roff(a.Name))
	for _, c := range a.VisibleCommands() {
		line(".br")
		if c.UsageText != "" {
			line("%s", roff(c.UsageText))
		} else {
			line(`\fB%s\fR [\fIOPTIONS\fR] \fB%s\fR %s`, roff(a.Name), roff(c.Name), roff(c.ArgsUsage))
		}
	}
	line(".SH DESCRIPTION")
	line("%s", roff(a.Description))
	line(".SH OPTIONS")
	manFlags(&b, a.VisibleFlags())
	line(".SH COMMANDS")
	for _, c := range a.VisibleCommands() {
		line(".SS %s", roff(strings.Join(c.Names(), ", ")))
		line("%s.", roff(c.Usage))
		if c.Description != "" {
			line(".PP")
			line("%s", roff(c.Description))
		}
		own := slices.DeleteFunc(slices.Clone(c.VisibleFlags()), func(f cli.Flag) bool {
			return global[f.Names()[0]] || f.Names()[0] == "help"
		})
		if len(own) > 0 {
			line(".PP")
			line("Its own options (the global options may follow the command too):")
			manFlags(&b, own)
		}
	}
	b.WriteString(manTail)
	return b.String()
}

// manFlags writes one tagged paragraph per flag: its names, the value it
// takes, what it does, its default and its environment variables.
func manFlags(b *strings.Builder, flags []cli.Flag) {
	for _, f := range flags {
		df, ok := f.(cli.DocGenerationFlag)
		if !ok {
			continue
		}
		placeholder, usage := unquoteUsage(df.GetUsage())
		var names []string
		for _, n := range f.Names() {
			dash := "--"
			if len(n) == 1 {
				dash = "-"
			}
			names = append(names, `\fB`+roff(dash+n)+`\fR`)
		}
		head := strings.Join(names, ", ")
		if df.TakesValue() {
			if placeholder == "" {
				placeholder = "value"
			}
			head += ` \fI` + roff(placeholder) + `\fR`
		}
		fmt.Fprintf(b, ".TP\n%s\n%s.\n", head, roff(strings.TrimSuffix(usage, ".")))
		if d := df.GetDefaultText(); df.TakesValue() && d != "" {
			fmt.Fprintf(b, "Default: %s.\n", roff(d))
		}
		if env := df.GetEnvVars(); len(env) > 0 {
			fmt.Fprintf(b, `Environment: \fB%s\fR.`+"\n", roff(strings.Join(env, `\fR, \fB`)))
		}
	}
}

// manTail is what the definitions do not say: how variables combine,
// the exit status (see exitCode), and where to read more.
const manTail = `.SH ENVIRONMENT
Each option above names its variable; an option on the command line wins
over its variable.
.PP
With an s3:// MEDIA_ROOT, the AWS_* variables apply (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL_S3).
.PP
Under systemd, STATE_DIRECTORY holds the journal when the database is not
a SQLite file.
.PP
NO_COLOR (any value) turns colour off.
.SH EXIT STATUS
.TP
.B 0
done, including when there was nothing to do, when SIGTERM or SIGINT
stopped the run between two transactions, and when another run was
already at work on the same database.
.TP
.B 1
the run worked, but something was left behind (a file that could not be
removed, an unsafe path), or the database lock was not obtained within
\-\-busy\-timeout; each on its own line on stderr. The next run retries.
.TP
.B 2
usage or configuration: a bad flag or value, a missing or unreadable
database, MEDIA_ROOT or state directory, a database that is not the web
app's. Nothing was changed.
.SH SEE ALSO
The README, https://github.com/cleanup-stale/cleanup-stale#readme, and
docs/design.md in the same repository.
`

// unquoteUsage splits a flag's usage as --help does: its first `WORD`
// names the flag's value, and loses its backquotes.
func unquoteUsage(usage string) (placeholder, text string) {
	before, rest, ok := strings.Cut(usage, "`")
	if !ok {
		return "", usage
	}
	name, after, ok := strings.Cut(rest, "`")
	if !ok {
		return "", usage
	}
	return name, before + name + after
}

// roff escapes text for the man page: backslashes, hyphens (so that
// options copy as typed), and a line that would start with a control
// character.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
