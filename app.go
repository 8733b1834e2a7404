package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// envPrefix is shared by every environment variable the tool reads, except
// MEDIA_ROOT, which is the web app's own name for the same setting.
const envPrefix = "CLEANUP_STALE_"

// newApp builds the command line. Tests run it with their own arguments
// (app.Run([]string{"cleanup-stale", ...})), exactly as main does.
func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "cleanup-stale",
		Usage: "delete stale print submissions and their uploads",
		Description: "Deletes submissions stuck in 'identifying' (created before the cutoff) or\n" +
			"'rejected' (closed before the cutoff), rows and files alike, from the web\n" +
			"app's SQLite database and MEDIA_ROOT. cutoff = now - ttl-hours.",
		Version:         version(),
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags:           append(globalFlags(true), cleanupFlags()...),
		Action:          cleanupAction,
		Commands:        []*cli.Command{statsCommand(), sweepCommand()},
		OnUsageError:    onUsageError,
		// Exit codes are decided in one place, run's exitCode, never here.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

// onUsageError reports a bad command line in one line, without the help
// text that urfave/cli would print.
func onUsageError(_ *cli.Context, err error, _ bool) error {
	return usageError{err}
}

// version is the module version from the build info: a tag for `go
// install ...@v1.2.3`, "(devel)" plus the commit for a local build.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v = fmt.Sprintf("%s (%s)", v, s.Value[:12])
		}
	}
	return v
}
