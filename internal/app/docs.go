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
	b.WriteString(manTail())
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

// unitStateDir and unitEnvFile are the systemd service's state directory
// (StateDirectory=cleanup-stale) and its EnvironmentFile=, as
// contrib/systemd/cleanup-stale.service sets them.
const (
	unitStateDir = "/var/lib/cleanup-stale"
	unitEnvFile  = "/etc/cleanup-stale.env"
)

// manExamples are the man page's EXAMPLES: what an operator types. A test
// runs each through the command line's parser.
var manExamples = []struct{ what, command string }{
	{"See what would be deleted, changing nothing:",
		"cleanup-stale --db /srv/printdesk/data/db.sqlite3 --media-root /srv/printdesk/media --dry-run"},
	{"Delete the stale submissions; their files go at the first run after the file grace:",
		"cleanup-stale --db /srv/printdesk/data/db.sqlite3 --media-root /srv/printdesk/media"},
	{"Count the submissions, the stale ones and the files still waiting:",
		"cleanup-stale --db /srv/printdesk/data/db.sqlite3 stats"},
	{"Run now, then every 5 minutes, until SIGTERM (a sidecar container):",
		"cleanup-stale --db /srv/printdesk/data/db.sqlite3 --media-root /srv/printdesk/media --every 5m"},
	{"Exit 0 if a run went well within the last 15 minutes, 1 if not:",
		"cleanup-stale --db /srv/printdesk/data/db.sqlite3 health --max-age 15m"},
	{"List the orphan uploads that no row references, changing nothing:",
		"cleanup-stale --db /srv/printdesk/data/db.sqlite3 --media-root /srv/printdesk/media sweep --dry-run"},
	{"The same install on PostgreSQL and S3 (the keys in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY):",
		"cleanup-stale --db postgres://printdesk@db.internal/printdesk --media-root s3://printdesk-media/site1 --dry-run"},
}

// manTail is what the flags' definitions do not say: the exit status (see
// exitCode), the variables without a flag, the files, examples, and where
// to read more.
func manTail() string {
	var b strings.Builder
	b.WriteString(`.SH EXIT STATUS
.TP
.B 0
done: also when there was nothing to do; when SIGTERM, SIGINT or SIGHUP
stopped the run (between two transactions, or while it waited to open the
database; the next run finishes what it left); when another run was
already at work on the same database (it says so, and leaves the work to
it); and when a dry run's reader closed its output.
.TP
.B 1
the run worked, but something was left behind: a file that could not be
removed (its row kept, or its row gone and the file still in the journal),
an unsafe path, or a journal that could not be written mid-run; or the
database's lock was not obtained within \-\-busy\-timeout, or its server
could not be reached. Each is one line on stderr; the next run retries.
A dry run that finds a row that a real run would keep exits 1 too, and
so does \fBhealth\fR when the cleanup is unhealthy.
.TP
.B 2
usage or configuration: a bad flag or value, a missing or unreadable
database, MEDIA_ROOT, bucket, upload directory or state directory, a
database that is not the web app's, a journal that cannot be created,
read or trusted. Nothing was changed.
.SH ENVIRONMENT
Each option above names its variable; an option on the command line wins
over its variable. The tool also reads:
`)
	for _, e := range otherEnvironment {
		fmt.Fprintf(&b, ".TP\n\\fB%s\\fR\n%s.\n", roff(e.Name), roff(e.Use))
	}
	// The journal's and the state file's names are the code's; the unit's
	// files are contrib/systemd's (a test compares them).
	fmt.Fprintf(&b, `.SH FILES
.TP
\fIDB\fB%s\fR
The pending-removal journal of a SQLite database \fIDB\fR, next to it:
the files whose rows are gone and that wait for their grace. A text file,
mode 0600, that exists only while files wait. With PostgreSQL, or with
\-\-state\-dir, it lives in the state directory as
\fINAME\-HASH\fB%[1]s\fR, named for the database's identity.
.TP
\fIDB\fB%s\fR
The health state file beside the journal: what the last real run did,
for \fBhealth\fR.
.TP
.I %s
The state directory of the systemd service (StateDirectory=), passed as
$STATE_DIRECTORY; else $XDG_STATE_HOME/cleanup\-stale, by default
~/.local/state/cleanup\-stale.
.TP
.I %s
The settings and secrets of the packaged systemd service
(EnvironmentFile=): every variable above, one VAR=value a line, mode 0600.
.TP
.I /usr/lib/systemd/system/cleanup\-stale.service, cleanup\-stale.timer
The packaged service, and the timer that starts it every 5 minutes.
.SH EXAMPLES
`, roff(journalSuffix), roff(healthSuffix), roff(unitStateDir), roff(unitEnvFile))
	for _, e := range manExamples {
		fmt.Fprintf(&b, ".PP\n%s\n.RS\n\\fB%s\\fR\n.RE\n", roff(e.what), roff(e.command))
	}
	b.WriteString(`.SH SEE ALSO
https://github.com/cleanup-stale/cleanup-stale/tree/main/docs: usage,
operating it (systemd, containers, monitoring), troubleshooting (every
message and its fix), guarantees, and the design.
`)
	return b.String()
}

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
