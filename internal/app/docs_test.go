package app

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestHelpCommand: `help` and `help COMMAND` print what --help prints.
func TestHelpCommand(t *testing.T) {
	for _, c := range []struct{ help, flag []string }{
		{[]string{"help"}, []string{"--help"}},
		{[]string{"help", "stats"}, []string{"stats", "--help"}},
		{[]string{"help", "sweep"}, []string{"sweep", "--help"}},
	} {
		got, want := runCLI(t, c.help...), runCLI(t, c.flag...)
		if got.code != 0 || got.stderr != "" || got.stdout != want.stdout || !strings.Contains(got.stdout, "USAGE") {
			t.Errorf("%v: exit %d, stderr %q, stdout\n%s\nwant, as %v:\n%s", c.help, got.code, got.stderr, got.stdout, c.flag, want.stdout)
		}
	}
}

// TestHelpNamesURLs: --help says that --db takes a postgres:// URL and
// --media-root an s3:// one, for the app and for each command.
func TestHelpNamesURLs(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"stats", "--help"}, {"sweep", "--help"}} {
		out := runCLI(t, args...).stdout
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^\s+--db PATH .*postgres://`),
			regexp.MustCompile(`(?m)^\s+--media-root DIR .*s3://`),
		} {
			if !want.MatchString(out) {
				t.Errorf("%v: no line matches %s in\n%s", args, want, out)
			}
		}
	}
}

// TestManPageNamesEverything: the man page has every flag of the app and
// of each command, with its value and environment variable, every
// command, and the URLs; groff, where installed, reads it without a
// warning.
func TestManPageNamesEverything(t *testing.T) {
	page := ManPage()
	app := newApp(nil, nil)
	check := func(flags []cli.Flag) {
		t.Helper()
		for _, f := range flags {
			name := f.Names()[0]
			if name == "help" {
				continue
			}
			if !strings.Contains(page, `\fB`+roff("--"+name)+`\fR`) {
				t.Errorf("no --%s", name)
			}
			df := f.(cli.DocGenerationFlag)
			if p, _ := unquoteUsage(df.GetUsage()); p != "" && !strings.Contains(page, `\fB`+roff("--"+name)+`\fR \fI`+p+`\fR`) {
				t.Errorf("--%s without its %s", name, p)
			}
			for _, v := range df.GetEnvVars() {
				if !strings.Contains(page, `\fB`+v+`\fR`) {
					t.Errorf("--%s without $%s", name, v)
				}
			}
		}
	}
	check(app.Flags)
	for _, c := range app.Commands {
		if !strings.Contains(page, ".SS "+c.Name+"\n") {
			t.Errorf("no command %s", c.Name)
		}
		check(c.Flags)
	}
	for _, want := range []string{"postgres://", "s3://", ".SH EXIT STATUS", ".SH ENVIRONMENT", ".SH FILES", ".SH EXAMPLES"} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q", want)
		}
	}
	// Every variable, those without a flag too, in ENVIRONMENT.
	_, env, _ := strings.Cut(page, ".SH ENVIRONMENT\n")
	env, _, _ = strings.Cut(env, ".SH ")
	for _, v := range Environment() {
		if v.Flag == "" && !strings.Contains(env, `\fB`+roff(v.Name)+`\fR`) {
			t.Errorf("ENVIRONMENT does not name $%s", v.Name)
		}
	}
	// A stop by SIGHUP is exit 0, like SIGTERM's; a dry run can exit 1.
	_, exit, _ := strings.Cut(page, ".SH EXIT STATUS\n")
	exit, _, _ = strings.Cut(exit, ".SH ")
	zero, one, _ := strings.Cut(exit, ".B 1\n")
	one, _, _ = strings.Cut(one, ".B 2\n")
	if !strings.Contains(zero, "SIGHUP") || !strings.Contains(zero, "SIGTERM") || !strings.Contains(one, "A dry run") {
		t.Errorf("EXIT STATUS:\n%s", exit)
	}

	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("no groff here: the page is not rendered")
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww")
	cmd.Stdin = strings.NewReader(page)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("groff: %v\n%s", err, stderr.String())
	}
	// Rendered, the flags read as typed: ASCII hyphens, no hyphenation.
	text := regexp.MustCompile(".\b").ReplaceAllString(string(out), "")
	for _, want := range []string{"--db PATH", "--media-root DIR", "CLEANUP_STALE_BUSY_TIMEOUT"} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered page has no %q:\n%s", want, text)
		}
	}
}

// TestManPageExamplesAndFiles: each EXAMPLES command is one the command
// line accepts, and FILES names the journal and the state file as the code
// names them, and the state directory and env file as the packaged unit
// sets them.
func TestManPageExamplesAndFiles(t *testing.T) {
	page := ManPage()
	for _, e := range manExamples {
		if !strings.Contains(page, `\fB`+roff(e.command)+`\fR`) {
			t.Errorf("the page lacks the example %q", e.command)
		}
		args, _ := cleanupStaleArgs(strings.Fields(e.command))
		if err := parseOnly().Run(append([]string{"cleanup-stale"}, args...)); err != nil {
			t.Errorf("example %q: %v", e.command, err)
		}
	}
	_, files, _ := strings.Cut(page, ".SH FILES\n")
	files, _, _ = strings.Cut(files, ".SH ")
	for _, want := range []string{roff(journalSuffix), roff(healthSuffix), roff(unitStateDir), roff(unitEnvFile)} {
		if !strings.Contains(files, want) {
			t.Errorf("FILES does not name %s", want)
		}
	}
	unit, err := os.ReadFile(filepath.Join(repo, "contrib", "systemd", "cleanup-stale.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nEnvironmentFile=-" + unitEnvFile + "\n", "\nStateDirectory=" + filepath.Base(unitStateDir) + "\n"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit has no %q, which the man page's FILES says", strings.TrimSpace(want))
		}
	}
}

// TestBashCompletion completes command lines with the bash script and the
// real binary, as bash would on TAB.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash here")
	}
	script, err := Completion("bash")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "cleanup-stale.bash")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]string{
		"cleanup-stale ":                      "stats sweep health help h",
		"cleanup-stale st":                    "stats",
		"cleanup-stale --d":                   "--db --dry-run",
		"cleanup-stale --db x.sqlite3 --dr":   "--dry-run",
		"cleanup-stale --tx":                  "--tx-target",
		"cleanup-stale stats --j":             "--json",
		"cleanup-stale sweep --g":             "--grace",
		"cleanup-stale sweep --upload-dir x ": "help h",
		"cleanup-stale --db ":                 "", // a value: bash's file names
		"cleanup-stale --dry-run ":            "",
		"cleanup-stale -- ":                   "",
	} {
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c",
			`source "$1"; COMP_LINE=$2; COMP_POINT=${#COMP_LINE}; _cleanup_stale; echo "${COMPREPLY[*]}"`,
			"bash", file, line)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binary(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", line, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%q completes to %q, want %q", line, got, want)
		}
	}
	// "--" alone lists every long flag, without running the cleanup.
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c",
		`source "$1"; COMP_LINE="cleanup-stale --"; COMP_POINT=${#COMP_LINE}; _cleanup_stale; echo "${COMPREPLY[*]}"`, "bash", file)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binary(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range newApp(nil, nil).Flags {
		want = append(want, "--"+f.Names()[0])
	}
	want = append(want, "--help", "--version")
	if got := strings.Fields(string(out)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%q completes to %q, want %q", "cleanup-stale --", got, want)
	}
}

// TestFishCompletion: fish, where installed, completes the commands and
// flags from the fish script.
func TestFishCompletion(t *testing.T) {
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("no fish here")
	}
	script, err := Completion("fish")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(script, "`") {
		t.Errorf("backquotes in the fish script:\n%s", script)
	}
	file := filepath.Join(t.TempDir(), "cleanup-stale.fish")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir() // fish offers the working directory's file names too
	for line, want := range map[string]string{
		"cleanup-stale st":        "stats",
		"cleanup-stale --dr":      "--dry-run",
		"cleanup-stale sweep --g": "--grace",
	} {
		cmd := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C"$argv[2]"`, file, line)
		cmd.Dir = empty
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", line, err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			name, _, _ := strings.Cut(l, "\t")
			if !strings.Contains(name, "/") { // fish adds file names
				got = append(got, name)
			}
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%q completes to %q, want %q", line, got, want)
		}
	}
}

// TestZshCompletion runs the zsh completion function, where zsh is
// installed, with zsh's completion builtins replaced by ones that print
// what they are given.
func TestZshCompletion(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("no zsh here")
	}
	script, err := Completion("zsh")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "_cleanup-stale")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]string{
		"cleanup-stale st":       "describe: stats sweep health help h",
		"cleanup-stale --d":      "describe: --db --dry-run",
		"cleanup-stale stats --": "describe: --db --media-root --ttl-hours --now --busy-timeout --json --state-dir --file-grace --help -h",
		"cleanup-stale -- x":     "files",
	} {
		cmd := exec.Command(zsh, "-f", "-c", `
_describe() { print -r -- "describe: ${(@P)2}" }
_files() { print -r -- files }
_cs() { source $1 }
words=(${(z)2}); CURRENT=${#words}
_cs $1`, "zsh", file, line)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binary(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", line, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%q completes to %q, want %q", line, got, want)
		}
	}
}
