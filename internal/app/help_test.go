package app

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestHelpNamesEveryVariable: --help lists the environment variable of
// every flag, for the app and for each command.
func TestHelpNamesEveryVariable(t *testing.T) {
	app := newApp(nil, nil)
	check := func(args []string, flags []cli.Flag) {
		t.Helper()
		r := runCLI(t, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d, %q", args, r.code, r.stderr)
		}
		for _, f := range flags {
			env, ok := f.(interface{ GetEnvVars() []string })
			if !ok {
				continue
			}
			for _, v := range env.GetEnvVars() {
				if !strings.Contains(r.stdout, "$"+v) {
					t.Errorf("%v does not name $%s", args, v)
				}
			}
		}
	}
	check([]string{"--help"}, app.Flags)
	for _, cmd := range app.Commands {
		check([]string{cmd.Name, "--help"}, cmd.Flags)
	}
	if r := runCLI(t, "--help"); !strings.Contains(r.stdout, "$MEDIA_ROOT") || !strings.Contains(r.stdout, "$CLEANUP_STALE_DB") {
		t.Errorf("help: %s", r.stdout)
	}
}

// TestVersion prints the version from the build info.
func TestVersion(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build info")
	}
	r := runCLI(t, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "cleanup-stale version "+bi.Main.Version) {
		t.Errorf("exit %d, %q", r.code, r.stdout)
	}
}
