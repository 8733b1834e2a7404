package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// targets are the release's platforms (.goreleaser.yaml's builds): the
// modules linked into any of their binaries are the ones whose licenses
// the archives and packages must carry.
var targets = []string{
	"linux/amd64", "linux/arm64", "linux/arm",
	"darwin/amd64", "darwin/arm64",
	"freebsd/amd64", "freebsd/arm64",
}

// licenseName matches a module's license and notice files: LICENSE,
// LICENSE.txt, LICENSE-SQLITE, COPYING, NOTICE, ...
var licenseName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|notice)([.-].*)?$`)

// thirdPartyLicenses returns the license and notice files of every module
// linked into the binary on any target, one after the other under the
// module's path and version. MIT and BSD ask that a binary carry them;
// Apache-2.0 asks the same of a NOTICE. A module without any is an error,
// so that a new dependency is looked at before it is shipped.
func thirdPartyLicenses(repo string) ([]byte, error) {
	dirs := map[string]string{} // module@version -> directory
	for _, t := range targets {
		goos, goarch, _ := strings.Cut(t, "/")
		cmd := exec.Command("go", "list", "-deps",
			"-f", "{{with .Module}}{{if not .Main}}{{.Path}}@{{.Version}}\t{{.Dir}}{{end}}{{end}}", ".")
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go list for %s: %w", t, err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if mod, dir, ok := strings.Cut(l, "\t"); ok {
				dirs[mod] = dir
			}
		}
	}
	var b bytes.Buffer
	b.WriteString("Third-party software linked into cleanup-stale, with its license and notice\n" +
		"files. cleanup-stale itself is under the Apache License 2.0 (LICENSE, NOTICE).\n")
	mods := make([]string, 0, len(dirs))
	for m := range dirs {
		mods = append(mods, m)
	}
	slices.Sort(mods)
	for _, mod := range mods {
		entries, err := os.ReadDir(dirs[mod])
		if err != nil {
			return nil, err
		}
		found := 0
		for _, e := range entries {
			if e.IsDir() || !licenseName.MatchString(e.Name()) {
				continue
			}
			text, err := os.ReadFile(filepath.Join(dirs[mod], e.Name()))
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&b, "\n%[1]s\n== %[2]s: %[3]s\n%[1]s\n\n%[4]s\n", strings.Repeat("=", 78), mod, e.Name(), bytes.TrimSpace(text))
			found++
		}
		if found == 0 {
			return nil, fmt.Errorf("module %s has no license file in %s", mod, dirs[mod])
		}
	}
	return b.Bytes(), nil
}
