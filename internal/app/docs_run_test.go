package app

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The commands of the docs that can run here, run: the README's first
// run and its five commands on a copy of the demo install, the stats that
// docs/usage.md shows, the install recipes against a release of the
// names GoReleaser gives, and the library's module recipe.

// readmeSection returns the README's section under "## title", up to the
// next one.
func readmeSection(t *testing.T, title string) string {
	t.Helper()
	_, s, ok := strings.Cut(docPages(t)["README.md"], "\n## "+title+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", title)
	}
	s, _, _ = strings.Cut(s, "\n## ")
	return s
}

// TestREADMEFirstRun: the README's first go run line, run from the
// repository as a newcomer would, prints what the README shows, and its
// test commands are in sh blocks as CI and others read them.
func TestREADMEFirstRun(t *testing.T) {
	blocks := codeBlocks("README.md", readmeSection(t, "Try it"))
	var args []string
	var shown string
	for i, b := range blocks {
		for _, words := range shellCommands(b) {
			if a, ok := cleanupStaleArgs(words); ok && words[0] == "go" && args == nil {
				args = a
				if i+1 < len(blocks) && blocks[i+1].lang == "text" {
					shown = blocks[i+1].text
				}
			}
		}
	}
	if args == nil || shown == "" {
		t.Fatal(`the README's "Try it" has no go run line followed by its output`)
	}
	if !strings.Contains(blocks[0].text, "\n.ci/run\n") {
		t.Errorf("the README's first sh block does not run .ci/run:\n%s", blocks[0].text)
	}
	if !slices.ContainsFunc(blocks, func(b codeBlock) bool { return b.lang == "sh" && b.text == "go test ./...\n" }) {
		t.Error(`the README's "Try it" has no sh block of "go test ./..."`)
	}
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	if !strings.HasPrefix(string(out), shown) {
		t.Errorf("the first run prints\n%s\nthe README shows\n%s", out, shown)
	}
}

// TestREADMEFiveCommands: the commands of the README's Use, on a copy of
// the demo install in place of /srv/printdesk: the dry run, the run, stats
// and the loop exit 0, and health then says healthy.
func TestREADMEFiveCommands(t *testing.T) {
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	var lines [][]string
	for _, b := range codeBlocks("README.md", readmeSection(t, "Use")) {
		for _, words := range shellCommands(b) {
			if args, ok := cleanupStaleArgs(words); ok {
				lines = append(lines, args)
			}
		}
	}
	if len(lines) != 5 {
		t.Fatalf("the README's Use shows %d commands, not five: %q", len(lines), lines)
	}
	for _, args := range lines {
		for i, a := range args {
			args[i] = strings.NewReplacer("/srv/printdesk/data/db.sqlite3", db, "/srv/printdesk/media", media).Replace(a)
		}
		if !slices.Contains(args, "--every") {
			if r := runCLI(t, args...); r.code != 0 {
				t.Errorf("cleanup-stale %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
			}
			continue
		}
		// The loop: its first tick, as health's state file records it,
		// then a stop.
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut syncBuffer
		done := make(chan int, 1)
		go func() { done <- Run(ctx, append([]string{"cleanup-stale"}, args...), &out, &errOut) }()
		waitFor(t, "the loop's first tick", func() bool {
			var s struct {
				Every             string
				Started, Finished time.Time
				ExitStatus        int `json:"exit_status"`
			}
			b, err := os.ReadFile(db + healthSuffix)
			return err == nil && json.Unmarshal(b, &s) == nil && s.Every == "5m0s" && !s.Finished.Before(s.Started)
		})
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("the loop: exit %d, stderr %q", code, errOut.String())
		}
	}
}

// TestDocsStatsExample: stats on the demo install prints, byte for byte,
// what docs/usage.md shows.
func TestDocsStatsExample(t *testing.T) {
	var args []string
	var shown string
	for _, b := range codeBlocks("docs/usage.md", docPages(t)["docs/usage.md"]) {
		if first, rest, ok := strings.Cut(b.text, "\n"); ok && b.lang == "text" && strings.HasPrefix(first, "$ cleanup-stale") && strings.HasSuffix(first, " stats") {
			args, _ = cleanupStaleArgs(strings.Fields(strings.TrimPrefix(first, "$ ")))
			shown = rest
		}
	}
	if args == nil {
		t.Fatal("docs/usage.md shows no stats run")
	}
	dir := install(t)
	r := runCLI(t, append(args, "--db", filepath.Join(dir, "db.sqlite3"), "--media-root", filepath.Join(dir, "media"))...)
	if r.code != 0 || r.stdout != shown {
		t.Errorf("stats: exit %d, stderr %q, stdout\n%s\ndocs/usage.md shows\n%s", r.code, r.stderr, r.stdout, shown)
	}
}

// releaseNames are the files of a release of version v as GoReleaser
// names them (.goreleaser.yaml, nfpm's conventional names): archives with
// v as it is; packages with a prerelease's hyphen written as a tilde, as
// Debian and RPM sort it, and in an RPM the prerelease's own hyphens as
// underscores. The recipes take the packages' names from the checksum
// file, so that they need not know these rules; .ci/release checks them
// on a real snapshot build.
func releaseNames(v string) (archive, deb, rpm, sums string) {
	release, pre, _ := strings.Cut(v, "-")
	debV, rpmV := v, v
	if pre != "" {
		debV, rpmV = release+"~"+pre, release+"~"+strings.ReplaceAll(pre, "-", "_")
	}
	return "cleanup-stale_" + v + "_linux_amd64.tar.gz", "cleanup-stale_" + debV + "_amd64.deb",
		"cleanup-stale-" + rpmV + "-1.x86_64.rpm", "cleanup-stale_" + v + "_checksums.txt"
}

// TestInstallRecipes runs docs/install.md's download recipes (archive,
// .deb, .rpm), for a release and a prerelease, against a release made
// here: curl copies from it, sudo is noted, not run. Each must fetch the
// file GoReleaser names, pass the checksum check, and install it.
func TestInstallRecipes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash here")
	}
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum here")
	}
	var recipes []codeBlock
	for _, b := range codeBlocks("docs/install.md", docPages(t)["docs/install.md"]) {
		if b.lang == "sh" && strings.Contains(b.text, "curl ") {
			recipes = append(recipes, b)
		}
	}
	if len(recipes) != 3 {
		t.Fatalf("docs/install.md has %d download recipes, want the archive's, the .deb's and the .rpm's", len(recipes))
	}
	for _, v := range []string{"1.2.3", "1.2.3-rc.1", "0.0.1-SNAPSHOT-1a5ea30"} {
		release := t.TempDir()
		archive, deb, rpm, sums := releaseNames(v)
		top := strings.TrimSuffix(archive, ".tar.gz")
		if err := os.MkdirAll(filepath.Join(release, top), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(release, top, "cleanup-stale"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("tar", "czf", filepath.Join(release, archive), "-C", release, top).CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
		var list strings.Builder
		others := []string{"cleanup-stale_" + v + "_darwin_arm64.tar.gz", strings.Replace(deb, "amd64", "arm64", 1),
			strings.Replace(rpm, "x86_64", "aarch64", 1)}
		for _, name := range append([]string{archive, deb, rpm}, others...) {
			if name != archive {
				if err := os.WriteFile(filepath.Join(release, name), []byte(name), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(filepath.Join(release, name))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&list, "%x  %s\n", sha256.Sum256(b), name)
		}
		if err := os.WriteFile(filepath.Join(release, sums), []byte(list.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		want := map[int]string{
			0: "sudo install -m 0755 " + top + "/cleanup-stale /usr/local/bin/",
			1: "sudo apt install ./" + deb,
			2: "sudo dnf install ./" + rpm,
		}
		for i, b := range recipes {
			work := t.TempDir()
			stubs := `set -euo pipefail
curl() { local a; for a in "$@"; do case $a in https://*) cp "$RELEASE/${a##*/}" . || return 22 ;; esac; done; }
sudo() { echo "sudo $*" >>"$LOG"; }
dpkg() { echo amd64; }
uname() { echo x86_64; }
`
			script := stubs + strings.Replace(b.text, "V=1.2.3 ", "V="+v+" ", 1)
			cmd := exec.Command(bash, "-c", script)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "RELEASE="+release, "LOG="+filepath.Join(work, "log"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("docs/install.md:%d with V=%s: %v\n%s", b.line, v, err, out)
				continue
			}
			log, _ := os.ReadFile(filepath.Join(work, "log"))
			if strings.TrimSpace(string(log)) != want[i] {
				t.Errorf("docs/install.md:%d with V=%s ran %q, want %q", b.line, v, log, want[i])
			}
		}
	}
}

// TestLibraryRecipe: docs/library.md's recipe makes a module that
// requires a clone of this one build the README's program, offline.
func TestLibraryRecipe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module of its own")
	}
	var recipe string
	for _, b := range codeBlocks("docs/library.md", docPages(t)["docs/library.md"]) {
		if b.lang == "sh" && strings.Contains(b.text, "go mod edit") {
			recipe = b.text
		}
	}
	_, program, _ := strings.Cut(readmeSection(t, "From Go"), "```go\n")
	program, _, _ = strings.Cut(program, "```\n")
	if recipe == "" || program == "" {
		t.Fatal("docs/library.md has no go mod edit recipe, or the README no program")
	}
	abs, err := filepath.Abs(repo)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The clone sits beside the new module, as the recipe has it.
	if err := os.Symlink(abs, filepath.Join(dir, "cleanup-stale")); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(dir, "tryout")
	if err := os.Mkdir(app, 0o755); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(abs, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"go.mod": "module example.com/tryout\n\ngo 1.26\n", "go.sum": string(sum), "main.go": program} {
		if err := os.WriteFile(filepath.Join(app, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range [][]string{{"bash", "-euc", recipe}, {"go", "build", "-o", os.DevNull, "."}} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Dir = app
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
}
