//go:build linux

// Package contrib_test runs what contrib/ ships: the image built from
// contrib/container/Containerfile, with podman and runc, and
// contrib/compose.yaml with Debian's podman-compose, against a copy of the
// demo install (testdata/reference). The tests need root (podman's own
// storage, volumes owned by the web app's user); they skip with a message
// when podman, runc or root is missing, and fail instead under CI=true.
// They are a package of their own so that go test runs them beside the
// other packages, not after them.
package contrib_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"debug/elf"
	"encoding/hex"
	"fmt"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// repo is the repository's root, seen from this package's directory.
const repo = ".."

// imageName is the sidecar image's one name: docs/operating.md builds it,
// contrib/compose.yaml runs it. The tests tag their own build of it
// (imageName:test-RANDOM) and remove it afterwards, so that a developer's
// own image is left alone.
const imageName = "localhost/cleanup-stale"

// webUser is the web app's user and group in contrib/compose.yaml.
const webUser = "1000:1000"

// refNow is the instant the demo install's expected deletions were
// computed at (testdata/reference/expected-deleted-ttl24.txt).
const refNow = "2026-11-25T12:00:00Z"

// sandbox are the flags that podman run needs in this project's CI and
// development sandboxes: runc instead of crun, and limits that fit under
// the sandbox's own (podman's defaults are above them).
var sandbox = []string{"--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}

// need skips the test, or fails it under CI=true, unless the commands and
// root are there.
func need(t *testing.T, commands ...string) {
	t.Helper()
	var missing []string
	for _, c := range commands {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s needed (.ci/run installs them and runs as root)", strings.Join(missing, ", "))
	}
	t.Skipf("%s missing: the container tests run podman as root", strings.Join(missing, ", "))
}

// run runs a command and returns its exit status and output.
func run(t *testing.T, name string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	start := time.Now()
	defer func() { t.Logf("%.1fs: %s %s", time.Since(start).Seconds(), name, strings.Join(args, " ")) }()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errOut.String()
	}
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return 0, out.String(), errOut.String()
}

// must runs a command that has to succeed, and returns its stdout.
func must(t *testing.T, name string, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, name, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\n%s%s", name, strings.Join(args, " "), code, out, errOut)
	}
	return out
}

var (
	buildOnce sync.Once
	builtTag  string
	buildErr  string
)

// TestMain removes the image that the tests built, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtTag != "" {
		exec.Command("podman", "rmi", "--force", builtTag).Run()
	}
	os.Exit(code)
}

// image builds the image once per test run, as docs/operating.md says but from a
// temporary context: the binary built here (static and stripped, with the
// Containerfile's -ldflags), the host's CA certificates,
// contrib/container/Containerfile. The build is offline: FROM scratch
// pulls nothing. It returns the image's tag.
func image(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		ctx, err := os.MkdirTemp("", "cleanup-stale-image-")
		if err != nil {
			buildErr = err.Error()
			return
		}
		defer os.RemoveAll(ctx)
		bin := filepath.Join(ctx, "cleanup-stale")
		steps := [][]string{
			// Without the Containerfile's -trimpath, which changes only the
			// paths recorded in the binary: the build then reuses what go
			// test has already compiled (-ldflags changes only the link).
			{"go", "build", "-ldflags=" + imageLdflags, "-o", bin, "github.com/cleanup-stale/cleanup-stale"},
			{"cp", filepath.Join(repo, "contrib", "container", "Containerfile"), "/etc/ssl/certs/ca-certificates.crt", ctx},
		}
		tag := imageName + ":test-" + randomHex()
		// --layers=false: no intermediate images to leave behind.
		steps = append(steps, []string{"podman", "build", "--format", "docker", "--layers=false", "--quiet", "-t", tag, ctx})
		for i, s := range steps {
			cmd := exec.Command(s[0], s[1:]...)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = strings.Join(s, " ") + ": " + err.Error() + "\n" + string(out)
				return
			}
			if i == 0 {
				if err := stripped(bin); err != nil {
					buildErr = err.Error()
					return
				}
			}
		}
		builtTag = tag
	})
	if builtTag == "" {
		t.Fatalf("building the image: %s", buildErr)
	}
	return builtTag
}

// imageLdflags are the linker flags of the Containerfile's build line,
// read from it, so that the tests build the image the way its readers do.
var imageLdflags = func() string {
	b, err := os.ReadFile(filepath.Join(repo, "contrib", "container", "Containerfile"))
	if err != nil {
		return err.Error()
	}
	m := regexp.MustCompile(`(?m)^#\s+CGO_ENABLED=0 go build .*-ldflags='([^']*)'`).FindSubmatch(b)
	if m == nil {
		return "the Containerfile shows no go build line with -ldflags"
	}
	return string(m[1])
}()

// stripped fails unless the binary at path has neither a symbol table nor
// DWARF: what -s -w leave out, as the release builds do.
func stripped(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			return fmt.Errorf("%s has a %s section: not stripped (-ldflags=%q)", path, s.Name, imageLdflags)
		}
	}
	return nil
}

func randomHex() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// demo copies the demo install into dir, as the two volumes of
// contrib/compose.yaml hold it (data/db.sqlite3 and media/), owned by the
// web app's user.
func demo(t *testing.T, data, media string) {
	t.Helper()
	dbtest.CopyReference(t, filepath.Join(data, "db.sqlite3"), media)
	chownWebUser(t, data)
	chownWebUser(t, media)
}

func chownWebUser(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, _ iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, 1000, 1000)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// expected returns the demo's rows and files that must survive a run at
// refNow with --ttl-hours 24, and the rows that it lists: every row but
// those of expected-deleted-ttl24.txt, and every file but theirs.
func expected(t *testing.T) (rows, files, deleted []string) {
	t.Helper()
	deleted = strings.Fields(readFile(t, filepath.Join(repo, "testdata", "reference", "expected-deleted-ttl24.txt")))
	db := openDB(t, filepath.Join(repo, "testdata", "reference", "webapp.sqlite3"))
	defer db.Close()
	fileOf := dbtest.Files(t, db)
	var gone []string
	for _, slug := range dbtest.Slugs(t, db) {
		if !slices.Contains(deleted, slug) {
			rows = append(rows, slug)
		} else if fileOf[slug] != "" {
			gone = append(gone, fileOf[slug])
		}
	}
	for _, f := range filesUnder(t, filepath.Join(repo, "testdata", "reference", "media")) {
		if !slices.Contains(gone, f) {
			files = append(files, f)
		}
	}
	if len(gone) == 0 || len(rows) == 0 {
		t.Fatalf("the demo is too weak a fixture: %d files to go, %d rows to stay", len(gone), len(rows))
	}
	return rows, files, deleted
}

// slugs returns the slugs in the SQLite database at path, in id order,
// waiting out a writer's lock (the sidecar may be at work).
func slugs(t *testing.T, path string) []string {
	t.Helper()
	db := openDB(t, path)
	defer db.Close()
	return dbtest.Slugs(t, db)
}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// filesUnder lists the regular files under dir, relative to it, sorted.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitFor polls cond until it holds: what the tests wait for is observed,
// never slept for. The deadline only turns a hang into a failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fingerprint hashes every file under dir, names, modes, owners and
// contents: equal fingerprints mean that nothing changed.
func fingerprint(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %s %d", p, fi.Mode(), fi.Sys().(*syscall.Stat_t).Uid)
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x %s", sha256.Sum256(b), fi.ModTime())
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// inspect returns a container's field, a Go template for podman inspect
// ("{{.State.Status}}").
func inspect(t *testing.T, container, format string) string {
	t.Helper()
	return strings.TrimSpace(must(t, "podman", "inspect", "--format", format, container))
}
