//go:build linux

package contrib_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestContainerImage runs the image as docs/operating.md does, with podman and
// runc, as the web app's user (not root), read-only, without capabilities
// or network, against a copy of the demo install in two volumes:
// --version, a dry run that changes nothing, a real run that leaves
// exactly the expected rows and files, then the image's HEALTHCHECK on a
// loop whose MEDIA_ROOT is missing (unhealthy, and the loop goes on) and
// on one that works (healthy), each stopped by SIGTERM with exit 0.
func TestContainerImage(t *testing.T) {
	need(t, "podman", "runc")
	t.Parallel()
	img := image(t)
	dir := t.TempDir()
	data, media := filepath.Join(dir, "data"), filepath.Join(dir, "media")
	for _, d := range []string{data, media} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	demo(t, data, media)
	db := filepath.Join(data, "db.sqlite3")
	state := db + ".cleanup-stale-health"
	wantRows, wantFiles, listed := expected(t)

	// The container as docs/operating.md runs it; withMedia false leaves
	// MEDIA_ROOT unmounted (a volume forgotten).
	podmanRun := func(withMedia bool, args ...string) []string {
		a := append([]string{"run"}, sandbox...)
		a = append(a, "--user", webUser, "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
			"--network", "none", "-v", data+":/srv/printdesk/data",
			"-e", "CLEANUP_STALE_DB=/srv/printdesk/data/db.sqlite3", "-e", "MEDIA_ROOT=/srv/printdesk/media")
		if withMedia {
			a = append(a, "-v", media+":/srv/printdesk/media")
		}
		return append(a, args...)
	}
	oneOff := func(args ...string) (int, string, string) {
		t.Helper()
		// No health check for a single run: it is the loop's. (podman
		// would also complain on stderr that it has no systemd to time
		// the checks with, in the sandbox.)
		return run(t, "podman", podmanRun(true, append([]string{"--rm", "--no-healthcheck", img}, args...)...)...)
	}

	code, out, errOut := oneOff("--version")
	if code != 0 || !strings.HasPrefix(out, "cleanup-stale version ") || errOut != "" {
		t.Fatalf("--version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	before := fingerprint(t, dir)
	code, out, errOut = oneOff("--now", refNow, "--ttl-hours", "24", "--dry-run")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var listedSlugs []string
	for _, l := range lines[1:] {
		slug, _, _ := strings.Cut(strings.TrimPrefix(l, " - "), " ")
		listedSlugs = append(listedSlugs, slug)
	}
	if code != 0 || lines[0] != "DRY RUN: would delete 66 stale submission(s) older than 24 h." ||
		!slices.Equal(listedSlugs, listed) || errOut != "" {
		t.Errorf("dry run: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	if fingerprint(t, dir) != before {
		t.Error("the dry run changed the install")
	}

	// The rows go; their files wait in the journal for the file grace.
	filesBefore := filesUnder(t, media)
	code, out, errOut = oneOff("--now", refNow, "--ttl-hours", "24")
	if code != 0 || out != "Deleted 66 stale submission(s) older than 24 h.\n" ||
		!strings.Contains(errOut, " waiting=53 file_grace=1m0s ") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("real run: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got := slugs(t, db); !slices.Equal(got, wantRows) {
		t.Errorf("surviving rows: %d, want %d\n%v", len(got), len(wantRows), got)
	}
	if got := filesUnder(t, media); !slices.Equal(got, filesBefore) {
		t.Errorf("files during their grace: %d, want all %d", len(got), len(filesBefore))
	}
	// A run that finds their grace over (here: none) removes them.
	code, out, errOut = oneOff("--now", refNow, "--ttl-hours", "24", "--file-grace", "0")
	if code != 0 || out != "" || errOut != "" { // quiet: no row deleted
		t.Errorf("run after the grace: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got := filesUnder(t, media); !slices.Equal(got, wantFiles) {
		t.Errorf("surviving files: %d, want %d\n%v", len(got), len(wantFiles), got)
	}
	// The run wrote its state as the web app's user, for health.
	if owner, mode := ownerAndMode(t, state); owner != 1000 || mode != 0o600 {
		t.Errorf("state file owned by %d, mode %o: want the web app's user (1000), 0600", owner, mode)
	}

	// The image's health check is `cleanup-stale health`, exec form.
	var hc struct{ Test []string }
	if err := json.Unmarshal([]byte(must(t, "podman", "image", "inspect", "--format", "{{json .HealthCheck}}", img)), &hc); err != nil ||
		strings.Join(hc.Test, " ") != "CMD /usr/local/bin/cleanup-stale health" {
		t.Fatalf("the image's health check: %+v (%v); was it built with --format docker?", hc, err)
	}

	// A loop as the image runs it (--every, here an hour: one tick), in
	// the background, until podman stop.
	loop := func(withMedia bool) string {
		t.Helper()
		name := "cleanup-stale-test-" + randomHex()
		must(t, "podman", podmanRun(withMedia, "-d", "--name", name, img, "--now", refNow, "--every", "1h")...)
		t.Cleanup(func() { run(t, "podman", "rm", "--force", name) })
		return name
	}
	stop := func(name string) {
		t.Helper()
		must(t, "podman", "stop", "--time", "60", name)
		if code := inspect(t, name, "{{.State.ExitCode}}"); code != "0" {
			t.Errorf("%s: exit %s after SIGTERM", name, code)
		}
	}
	tick := func(exit int) func() bool {
		return func() bool {
			var s struct {
				Every      string
				ExitStatus int `json:"exit_status"`
				Started    string
				Finished   string
			}
			b, err := os.ReadFile(state)
			return err == nil && json.Unmarshal(b, &s) == nil && s.Every == "1h0m0s" && s.ExitStatus == exit && s.Finished > s.Started
		}
	}

	broken := loop(false)
	waitFor(t, "a tick without MEDIA_ROOT", tick(2))
	code, out, _ = run(t, "podman", "healthcheck", "run", broken)
	if code != 1 || strings.TrimSpace(out) != "unhealthy" {
		t.Errorf("health check without MEDIA_ROOT: exit %d, %q", code, out)
	}
	if status := inspect(t, broken, "{{.State.Status}}"); status != "running" {
		t.Errorf("without MEDIA_ROOT the loop is %s, want it running", status)
	}
	stop(broken)
	if _, _, logs := run(t, "podman", "logs", broken); !strings.Contains(logs, `error="MEDIA_ROOT not usable`) {
		t.Errorf("the container's stderr: %q", logs)
	}

	working := loop(true)
	waitFor(t, "a tick that works", tick(0))
	if code, out, errOut := run(t, "podman", "healthcheck", "run", working); code != 0 {
		t.Errorf("health check: exit %d, %q %q", code, out, errOut)
	}
	stop(working)
	if got := slugs(t, db); !slices.Equal(got, wantRows) {
		t.Errorf("after the loops, %d rows, want %d", len(got), len(wantRows))
	}
}

func ownerAndMode(t *testing.T, path string) (uid int, mode os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid), fi.Mode()
}
