// Package app is cleanup-stale's command line: its flags and environment
// variables, its commands (the cleanup, stats, sweep), their output, and
// the exit status. The job itself is package cleanup's.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"syscall"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/store"
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
			"app's database (SQLite, or postgres://) and MEDIA_ROOT (a directory, or\n" +
			"s3://BUCKET[/PREFIX]). cutoff = now - ttl-hours. A file goes once its row has\n" +
			"been gone for --file-grace.",
		Version:         version(),
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: false, // `cleanup-stale help [COMMAND]` works as --help does
		Flags:           append(append(globalFlags(true), cleanupFlags()...), watchFlags()...),
		Action:          cleanupAction,
		Commands:        []*cli.Command{statsCommand(), sweepCommand(), healthCommand()},
		OnUsageError:    onUsageError,
		// Exit codes are decided in one place, run's exitCode, never here.
		ExitErrHandler: func(*cli.Context, error) {},

		// `cleanup-stale ... --generate-bash-completion` lists what may come
		// next, and does nothing else; the shell completions that
		// internal/pkgfiles writes ask it.
		EnableBashCompletion: true,
	}
}

// releaseVersion is set by the release build (-ldflags -X, see
// .goreleaser.yaml), whose module version would otherwise read "(devel)"
// or a pseudo-version.
var releaseVersion string

// version is the release's version, else the module version from the build
// info: a tag for `go install ...@v1.2.3`, a pseudo-version or "(devel)"
// for a local build. The commit follows when the build info has it.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{Main: debug.Module{Version: "unknown"}}
	}
	v := bi.Main.Version
	if releaseVersion != "" {
		v = releaseVersion
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v = fmt.Sprintf("%s (%s)", v, s.Value[:12])
		}
	}
	return v
}

// Run runs the command line and returns its exit status. It is main without
// the process: tests call it with their own arguments and writers.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := explainValue(newApp(readerGone{stdout}, stderr).RunContext(ctx, args))
	if errors.Is(err, errReaderGone) {
		// `cleanup-stale --dry-run | head`: the reader has what it wanted.
		// A real run has done its work by the time it prints.
		return 0
	}
	if errors.Is(err, errStopped) {
		newLogger(stderr).Info(err.Error())
		return 0
	}
	code := exitCode(err)
	if err != nil && !errors.Is(err, errLeftBehind) {
		fmt.Fprintf(stderr, "cleanup-stale: %v\n", oneLine(err))
	}
	return code
}

// errReaderGone means that whoever read stdout has closed it. With SIGPIPE
// ignored (see main), a write then fails with EPIPE instead of ending the
// process.
var errReaderGone = errors.New("stdout closed by its reader")

// readerGone tells a closed stdout from any other broken pipe (a database
// connection's, say), which is a real failure.
type readerGone struct{ io.Writer }

func (w readerGone) Write(p []byte) (int, error) {
	n, err := w.Writer.Write(p)
	if errors.Is(err, syscall.EPIPE) {
		err = errReaderGone
	}
	return n, err
}

// errLeftBehind means the run worked but left something behind: exit 1.
// The details are already on stderr, one line each.
var errLeftBehind = errors.New("some stale submissions were left behind")

// runError marks an error that happened while doing the job, as opposed to
// a command line that urfave/cli refused.
type runError struct{ error }

func (e runError) Unwrap() error { return e.error }

// usageError is a command line or environment that makes no sense.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// exitCode is the one place where an outcome becomes an exit status (the
// exit statuses of docs/troubleshooting.md): 0 done, 1 done but something left behind or the
// lock not obtained, 2 usage or configuration.
func exitCode(err error) int {
	var re runError
	switch {
	case err == nil, errors.Is(err, errStopped):
		return 0
	case isConfigError(err):
		return 2
	case errors.Is(err, errLeftBehind), store.IsBusy(err), errors.As(err, &re):
		return 1
	default:
		// Everything else comes from urfave/cli itself: a bad flag, a bad
		// value, an unknown command.
		return 2
	}
}

// isConfigError tells whether err is a usage or configuration error (exit
// 2): one that the next run would meet again, whenever it is found.
func isConfigError(err error) bool {
	var ue usageError
	return errors.As(err, &ue) ||
		errors.Is(err, store.ErrNoDatabase) ||
		errors.Is(err, store.ErrNotDatabase) ||
		errors.Is(err, store.ErrSchema) ||
		errors.Is(err, store.ErrAccess) ||
		errors.Is(err, store.ErrInvalidURL) ||
		errors.Is(err, fs.ErrNoMediaRoot) ||
		errors.Is(err, cleanup.ErrJournal) ||
		errors.Is(err, cleanup.ErrOptions)
}

// oneLine keeps an error to a single line on stderr.
func oneLine(err error) string {
	b := []byte(err.Error())
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}
