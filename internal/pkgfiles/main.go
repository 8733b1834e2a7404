// Command pkgfiles writes the files that the release archives and packages
// carry beside the binary, from the command line's own definitions and
// contrib/: the man page, the bash, zsh and fish completions, the systemd
// service as a package installs it (the binary in /usr/bin), and the
// license texts of the modules linked into the binary.
// GoReleaser runs it before it builds (.goreleaser.yaml):
//
//	go run ./internal/pkgfiles build/pkgfiles
//
// It is a program of its own, not a hidden subcommand, so that the
// released binary carries nothing that only the release needs.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cleanup-stale/cleanup-stale/internal/app"
)

func main() {
	// An OUTDIR that looks like a flag (-h) is refused: it once made a
	// directory named -h beside the sources.
	if len(os.Args) != 2 || strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/pkgfiles OUTDIR")
		os.Exit(2)
	}
	if err := write(os.Args[1], "."); err != nil {
		fmt.Fprintf(os.Stderr, "pkgfiles: %v\n", err)
		os.Exit(1)
	}
}

// Names of what write makes, relative to its output directory; the
// release config names the same paths.
const (
	manPage    = "cleanup-stale.1.gz"
	bashFile   = "completions/cleanup-stale.bash"
	zshFile    = "completions/_cleanup-stale"
	fishFile   = "completions/cleanup-stale.fish"
	unitFile   = "systemd/cleanup-stale.service"
	licenses   = "THIRD_PARTY_LICENSES.txt"
	contribDir = "contrib/systemd"
)

// Where the package installs the binary, and where contrib's unit expects
// a hand install (docs/operating.md, systemd).
const (
	packagedExec = "ExecStart=/usr/bin/cleanup-stale"
	handExec     = "ExecStart=/usr/local/bin/cleanup-stale"
)

// write makes the files in out, reading contrib/ under repo. It replaces
// out as a whole, so that nothing stale from an earlier run is packaged.
func write(out, repo string) error {
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	man, err := gzipped(app.ManPage())
	if err != nil {
		return err
	}
	files := map[string][]byte{manPage: man}
	for name, shell := range map[string]string{bashFile: "bash", zshFile: "zsh", fishFile: "fish"} {
		s, err := app.Completion(shell)
		if err != nil {
			return err
		}
		files[name] = []byte(s)
	}
	unit, err := packagedUnit(filepath.Join(repo, contribDir, "cleanup-stale.service"))
	if err != nil {
		return err
	}
	files[unitFile] = unit
	if files[licenses], err = thirdPartyLicenses(repo); err != nil {
		return err
	}
	for name, b := range files {
		p := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// packagedUnit is contrib's service with the packaged binary's path. It
// fails, rather than ship a unit that starts nothing, if contrib's unit
// no longer has exactly one ExecStart naming the hand-installed binary.
func packagedUnit(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.SplitAfter(string(b), "\n")
	found := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "ExecStart=") {
			found++
			if rest, ok := strings.CutPrefix(l, handExec); ok && (rest == "\n" || strings.HasPrefix(rest, " ")) {
				lines[i] = packagedExec + rest
			} else {
				return nil, fmt.Errorf("%s: %q does not start with %q", path, strings.TrimSpace(l), handExec)
			}
		}
	}
	if found != 1 {
		return nil, fmt.Errorf("%s: %d ExecStart= lines, want 1", path, found)
	}
	return []byte(strings.Join(lines, "")), nil
}

// gzipped compresses the man page as man pages are installed. The header
// carries no name and no time, so that two runs make the same bytes.
func gzipped(s string) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write([]byte(s)); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
