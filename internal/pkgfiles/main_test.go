package main

import (
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/internal/app"
)

// repo is the repository's root, seen from this package's directory.
const repo = "../.."

// TestWriteMakesWhatTheReleaseShips: after write, every file that
// .goreleaser.yaml packages exists, in build/pkgfiles or in the
// repository, so that the release cannot fail on, or silently miss, a
// file; and each holds what it should.
func TestWriteMakesWhatTheReleaseShips(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkgfiles")
	if err := os.MkdirAll(filepath.Join(out, "stale"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := write(out, repo); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "stale")); !os.IsNotExist(err) {
		t.Errorf("an earlier run's file survived: %v", err)
	}

	config, err := os.ReadFile(filepath.Join(repo, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srcs := regexp.MustCompile(`(?m)^\s+(?:- )?src: (\S+)$`).FindAllStringSubmatch(string(config), -1)
	if len(srcs) < 10 {
		t.Fatalf("only %d src: entries found in .goreleaser.yaml", len(srcs))
	}
	for _, m := range append(srcs, []string{"", "LICENSE"}, []string{"", "NOTICE"}) {
		pattern := filepath.Join(repo, m[1])
		if rest, ok := strings.CutPrefix(m[1], "build/pkgfiles/"); ok {
			pattern = filepath.Join(out, rest)
		}
		if found, _ := filepath.Glob(pattern); len(found) == 0 {
			t.Errorf(".goreleaser.yaml packages %s: there is no such file", m[1])
		}
	}
	for _, hook := range []string{"go run ./internal/pkgfiles build/pkgfiles"} {
		if !strings.Contains(string(config), "- "+hook+"\n") {
			t.Errorf(".goreleaser.yaml does not run %q", hook)
		}
	}

	f, err := os.Open(filepath.Join(out, manPage))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(zr)
	if err != nil || !strings.HasPrefix(string(page), `.TH CLEANUP\-STALE 1 `) {
		t.Errorf("man page: %v\n%.200s", err, page)
	}

	want, err := os.ReadFile(filepath.Join(repo, contribDir, "cleanup-stale.service"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, unitFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != strings.Replace(string(want), handExec+"\n", packagedExec+"\n", 1) || !strings.Contains(string(got), packagedExec+"\n") {
		t.Errorf("packaged unit:\n%s", got)
	}

	lic, err := os.ReadFile(filepath.Join(out, licenses))
	if err != nil {
		t.Fatal(err)
	}
	for _, mod := range linked(t, "linux", "amd64") {
		if !strings.Contains(string(lic), "== "+mod+": LICENSE") {
			t.Errorf("no license for %s", mod)
		}
	}
	if !strings.Contains(string(lic), "== github.com/minio/minio-go/v7@") || !strings.Contains(string(lic), "This product includes software developed at MinIO, Inc.") {
		t.Errorf("minio-go's NOTICE is missing")
	}
}

// linked lists the modules (path@version) linked into the binary for a
// target, as go list sees them, independently of thirdPartyLicenses.
func linked(t *testing.T, goos, goarch string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}@{{.Version}}{{end}}{{end}}", ".")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	mods := strings.Fields(string(out))
	if len(mods) < 10 {
		t.Fatalf("go list found only %v", mods)
	}
	return mods
}

// TestPackagedUnitRefusesAnotherExecStart: a contrib unit whose ExecStart
// is not the hand-installed binary, or that has two, fails the release
// instead of shipping a unit that starts the wrong thing.
func TestPackagedUnitRefusesAnotherExecStart(t *testing.T) {
	dir := t.TempDir()
	for _, unit := range []string{
		"[Service]\nExecStart=/opt/cleanup-stale\n",
		"[Service]\nExecStart=/usr/local/bin/cleanup-stale-old\n",
		"[Service]\nExecStart=/usr/local/bin/cleanup-stale\nExecStart=/usr/local/bin/cleanup-stale\n",
		"[Service]\nType=oneshot\n",
	} {
		p := filepath.Join(dir, "u.service")
		if err := os.WriteFile(p, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := packagedUnit(p); err == nil {
			t.Errorf("%q became %q", unit, b)
		}
	}
	p := filepath.Join(dir, "ok.service")
	if err := os.WriteFile(p, []byte("[Service]\nExecStart=/usr/local/bin/cleanup-stale --every 5m\nUser=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := packagedUnit(p)
	if err != nil || string(b) != "[Service]\nExecStart=/usr/bin/cleanup-stale --every 5m\nUser=x\n" {
		t.Errorf("got %q, %v", b, err)
	}
}

// TestReleaseVersion builds the binary with .goreleaser.yaml's ldflags, a
// release's version filled in: --version names it. (-X names a variable
// by its path; a wrong one is silently ignored.)
func TestReleaseVersion(t *testing.T) {
	config, err := os.ReadFile(filepath.Join(repo, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s+- (-s -w -X .+)$`).FindSubmatch(config)
	if m == nil {
		t.Fatal("no ldflags line with -X in .goreleaser.yaml")
	}
	ldflags := strings.ReplaceAll(string(m[1]), "{{ .Version }}", "9.8.7")
	if strings.Contains(ldflags, "{{") {
		t.Fatalf("ldflags %q: a template this test does not fill", ldflags)
	}
	bin := filepath.Join(t.TempDir(), "cleanup-stale")
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, ".")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "cleanup-stale version v9.8.7") {
		t.Errorf("--version: %v, %q", err, out)
	}
}

// TestEnvFileNamesEveryVariable: the packaged /etc/cleanup-stale.env
// lists every variable that the tool reads, as the command line's own
// definitions say (app.Environment): each flag's and each S3 one as a
// commented-out assignment, ready to be set; the others (set by systemd,
// or of no use to a service) by name. And every assignment in it, set or
// commented out, is one of them: a misspelt variable is silently ignored.
func TestEnvFileNamesEveryVariable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repo, "contrib", "packaging", "cleanup-stale.env"))
	if err != nil {
		t.Fatal(err)
	}
	file := string(b)
	known := map[string]bool{}
	for _, v := range app.Environment() {
		known[v.Name] = true
		assignable := v.Flag != "" || strings.HasPrefix(v.Name, "AWS_")
		if assignable && !regexp.MustCompile(`(?m)^#`+v.Name+`=`).MatchString(file) {
			t.Errorf("no #%s= line for %s", v.Name, v.Flag)
		}
		if !regexp.MustCompile(`\b` + v.Name + `\b`).MatchString(file) {
			t.Errorf("%s is not named", v.Name)
		}
		if v.Flag != "" && !strings.Contains(file, "("+v.Flag) && !strings.Contains(file, " "+v.Flag) {
			t.Errorf("%s does not say its flag, %s", v.Name, v.Flag)
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^#?([A-Z][A-Z0-9_]*)=`).FindAllStringSubmatch(file, -1) {
		if !known[m[1]] {
			t.Errorf("%s= is no variable that cleanup-stale reads", m[1])
		}
	}
}

// TestMaintainerIsAnAddress: the packages' Maintainer is a name and an
// email address, as Debian's policy wants it (a URL there is refused by
// some tools and misleads the rest).
func TestMaintainerIsAnAddress(t *testing.T) {
	config, err := os.ReadFile(filepath.Join(repo, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s+maintainer: (.+)$`).FindSubmatch(config)
	if m == nil {
		t.Fatal("no maintainer: in .goreleaser.yaml")
	}
	if !regexp.MustCompile(`^[^<>@]+ <[^<>@\s/]+@[^<>@\s/]+\.[a-z]+>$`).Match(m[1]) {
		t.Errorf("maintainer: %s: not a name and an email address", m[1])
	}
}
