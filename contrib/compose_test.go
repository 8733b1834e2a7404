//go:build linux

package contrib_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestComposeUp runs contrib/compose.yaml with Debian's podman-compose
// (1.0.3), changed only where this test must: the web app is a stand-in
// (the image itself, printing its version, without the published port),
// the sidecar runs this test's image, judges staleness at the demo's
// instant, and ticks every second instead of every 5 minutes.
//
//   - With the database not created yet, the sidecar keeps running and
//     logging the error at each tick, and is not restarted.
//   - Once the demo install appears in the volumes, a tick deletes exactly
//     the expected rows and files, and `cleanup-stale health` says healthy.
//   - `podman-compose stop` ends it with exit 0.
//   - A bad setting (exit 2 at start) is restarted 3 times, then left
//     stopped: no crash loop.
func TestComposeUp(t *testing.T) {
	need(t, "podman", "runc", "podman-compose", "python3")
	t.Parallel()
	img := image(t)
	project := "cleanupstaletest" + randomHex()
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.json") // YAML is a superset of JSON
	sidecar := project + "_cleanup_1"

	// The shipped file, as PyYAML reads it (the YAML podman-compose reads).
	out, err := exec.Command("python3", "-c", `import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))`,
		filepath.Join(repo, "contrib", "compose.yaml")).Output()
	if err != nil {
		t.Fatalf("python3 with PyYAML: %v", err)
	}
	var compose struct {
		Services map[string]map[string]any `json:"services"`
	}
	var all map[string]any
	if err := json.Unmarshal(out, &all); err != nil || json.Unmarshal(out, &compose) != nil {
		t.Fatal(err)
	}
	web, side := compose.Services["web"], compose.Services["cleanup"]
	if web == nil || side == nil || side["image"] != imageName+":latest" {
		t.Fatalf("services web and cleanup (image %s:latest): %v", imageName, compose.Services)
	}
	web["image"], web["command"] = img, []string{"--version"}
	delete(web, "ports")
	side["image"], side["command"] = img, []string{"--every", "1s"}
	env := side["environment"].(map[string]any)
	env["CLEANUP_STALE_NOW"] = refNow
	// Files go at once, so that the tick that deletes the rows removes
	// them too (TestContainerImage shows them wait for the default grace).
	env["CLEANUP_STALE_FILE_GRACE"] = "0"
	all["services"] = compose.Services
	writeCompose := func() {
		t.Helper()
		b, err := json.Marshal(all)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	podmanCompose := func(args ...string) {
		t.Helper()
		must(t, "podman-compose", append([]string{"--podman-args=--runtime runc",
			"--podman-run-args=--ulimit nofile=1024:1024 --ulimit nproc=1024:1024", "-p", project, "-f", file}, args...)...)
	}

	// The volumes, made first so that the test can fill them; owned by the
	// web app's user, as its image would leave them.
	mountpoint := map[string]string{}
	for _, v := range []string{"data", "media"} {
		name := project + "_" + v
		must(t, "podman", "volume", "create", name)
		mountpoint[v] = strings.TrimSpace(must(t, "podman", "volume", "inspect", "--format", "{{.Mountpoint}}", name))
		chownWebUser(t, mountpoint[v])
	}
	t.Cleanup(func() {
		run(t, "podman-compose", "-p", project, "-f", file, "down")
		run(t, "podman", append([]string{"rm", "--force"}, project+"_web_1", sidecar)...)
		run(t, "podman", "volume", "rm", "--force", project+"_data", project+"_media")
		run(t, "podman", "network", "rm", "--force", project+"_default", project+"_isolated")
	})

	writeCompose()
	podmanCompose("up", "-d")
	logged := func(what string, n int) func() bool {
		return func() bool {
			_, _, logs := run(t, "podman", "logs", sidecar)
			return strings.Count(logs, what) >= n
		}
	}
	waitFor(t, "two ticks without a database", logged(`error="database not found: /srv/printdesk/data/db.sqlite3"`, 2))
	if got := inspect(t, sidecar, "{{.State.Status}} {{.RestartCount}}"); got != "running 0" {
		t.Errorf("without a database the sidecar is %q, want running, never restarted", got)
	}
	if got := inspect(t, sidecar, "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}"); got != project+"_isolated" {
		t.Errorf("the sidecar's networks: %q", got)
	}
	if got := strings.TrimSpace(must(t, "podman", "network", "inspect", "--format", "{{.Internal}}", project+"_isolated")); got != "true" {
		t.Errorf("the sidecar's network is internal: %s", got)
	}

	// The web app has created its database: the next tick does the work.
	wantRows, wantFiles, _ := expected(t)
	demo(t, mountpoint["data"], mountpoint["media"])
	db := filepath.Join(mountpoint["data"], "db.sqlite3")
	waitFor(t, "a tick to delete the stale rows", func() bool { return slices.Equal(slugs(t, db), wantRows) })
	waitFor(t, "health to say so", func() bool {
		code, _, _ := run(t, "podman", "exec", sidecar, "/usr/local/bin/cleanup-stale", "health", "--max-age", "1h")
		return code == 0
	})
	if got := filesUnder(t, mountpoint["media"]); !slices.Equal(got, wantFiles) {
		t.Errorf("surviving files: %d, want %d\n%v", len(got), len(wantFiles), got)
	}
	podmanCompose("stop")
	if got := inspect(t, sidecar, "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}"); got != "exited 0 0" {
		t.Errorf("after podman-compose stop: %q, want exited 0 0", got)
	}
	podmanCompose("down")

	// A setting that makes no sense: exit 2 at once, 3 restarts, no more.
	env["CLEANUP_STALE_TTL_HOURS"] = "-1"
	writeCompose()
	podmanCompose("up", "-d")
	waitFor(t, "the restarts to run out", func() bool {
		return inspect(t, sidecar, "{{.State.Status}} {{.RestartCount}}") == "exited 3"
	})
	if code := inspect(t, sidecar, "{{.State.ExitCode}}"); code != "2" {
		t.Errorf("exit %s, want 2", code)
	}
	if _, _, logs := run(t, "podman", "logs", sidecar); strings.Count(logs, "cleanup-stale: --ttl-hours -1: must be 0 or more\n") != 4 {
		t.Errorf("the sidecar's stderr: %q; want the error once per start, 4 starts", logs)
	}
}
