package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestSystemdUnits: the units pass `systemd-analyze verify` without a
// single warning, and the service keeps the hardening docs/operating.md promises.
func TestSystemdUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed here")
	}
	service, err := os.ReadFile(filepath.Join(repo, "contrib", "systemd", "cleanup-stale.service"))
	if err != nil {
		t.Fatal(err)
	}
	timer, err := os.ReadFile(filepath.Join(repo, "contrib", "systemd", "cleanup-stale.timer"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=oneshot", "User=", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"ReadWritePaths=", "PrivateTmp=yes", "ProtectHome=yes", "PrivateNetwork=yes", "ExecStart=/usr/local/bin/cleanup-stale",
		"StateDirectory=cleanup-stale"} {
		if !bytes.Contains(service, []byte("\n"+want)) {
			t.Errorf("the service lacks %s", want)
		}
	}
	for _, want := range []string{"OnCalendar=*:0/5", "Persistent=yes", "WantedBy=timers.target"} {
		if !bytes.Contains(timer, []byte("\n"+want)) {
			t.Errorf("the timer lacks %s", want)
		}
	}

	// verify insists that ExecStart exists: point it at the real binary.
	dir := t.TempDir()
	service = bytes.ReplaceAll(service, []byte("ExecStart=/usr/local/bin/cleanup-stale"), []byte("ExecStart="+binary(t)))
	for name, body := range map[string][]byte{"cleanup-stale.service": service, "cleanup-stale.timer": timer} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	verify := func() {
		t.Helper()
		cmd := exec.Command(analyze, "verify", "--man=no", filepath.Join(dir, "cleanup-stale.service"), filepath.Join(dir, "cleanup-stale.timer"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		// verify only warns about an unknown or unparsable setting: any
		// output at all is a failure.
		if err != nil || strings.TrimSpace(stderr.String()) != "" {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, stderr.String())
		}
	}
	verify()

	// The same with the drop-in for PostgreSQL and S3, which opens the
	// network.
	dropIn, err := os.ReadFile(filepath.Join(repo, "contrib", "systemd", "beyond-one-host.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PrivateNetwork=no", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "Environment=MEDIA_ROOT=s3://"} {
		if !bytes.Contains(dropIn, []byte("\n"+want)) {
			t.Errorf("the drop-in lacks %s", want)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "cleanup-stale.service.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cleanup-stale.service.d", "beyond-one-host.conf"), dropIn, 0o644); err != nil {
		t.Fatal(err)
	}
	verify()
}

// TestSystemdRecipes: the drop-ins that the docs give (each a block
// whose first line names /etc/systemd/system/cleanup-stale.service.d/),
// added to the unit, pass `systemd-analyze verify` without a word; and
// the one that points the unit at another install empties each list
// before it sets it, since a drop-in adds to a list.
func TestSystemdRecipes(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed here")
	}
	const dropInDir = "# /etc/systemd/system/cleanup-stale.service.d/"
	recipes := map[string]string{}
	for _, block := range strings.Split(allDocs(t), "```ini\n")[1:] {
		body, _, _ := strings.Cut(block, "```")
		if first, _, _ := strings.Cut(body, "\n"); strings.HasPrefix(first, dropInDir) {
			recipes[strings.TrimPrefix(first, dropInDir)] = body
		}
	}
	if len(recipes) != 2 || recipes["override.conf"] == "" || recipes["ping.conf"] == "" {
		t.Fatalf("the docs' drop-ins: %v, want override.conf and ping.conf", slices.Collect(maps.Keys(recipes)))
	}

	// Each list is emptied, then set, and nothing of the example's paths
	// is left.
	override := strings.Split(recipes["override.conf"], "\n")
	for _, key := range []string{"ReadWritePaths=", "Environment="} {
		reset := slices.Index(override, key)
		for i, line := range override {
			if strings.HasPrefix(line, key) && line != key && (reset < 0 || i < reset) {
				t.Errorf("override.conf sets %s before it empties it (line %d)", line, i+1)
			}
		}
		if reset < 0 {
			t.Errorf("override.conf does not empty %s", key)
		}
	}
	if strings.Contains(recipes["override.conf"], "/srv/printdesk") {
		t.Error("override.conf keeps the example's paths")
	}

	service, err := os.ReadFile(filepath.Join(repo, "contrib", "systemd", "cleanup-stale.service"))
	if err != nil {
		t.Fatal(err)
	}
	service = bytes.ReplaceAll(service, []byte("ExecStart=/usr/local/bin/cleanup-stale"), []byte("ExecStart="+binary(t)))
	for name, body := range recipes {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "cleanup-stale.service"), service, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(dir, "cleanup-stale.service.d"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cleanup-stale.service.d", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(analyze, "verify", "--man=no", filepath.Join(dir, "cleanup-stale.service"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || strings.TrimSpace(stderr.String()) != "" {
			t.Errorf("systemd-analyze verify with %s: %v\n%s", name, err, stderr.String())
		}
	}
}

// TestContainerfile: the image is a static binary on scratch, not run as
// root, with the binary as its entry point; and its default command, run
// as the image would run it, starts the loop (here a dry run, stopped
// once its first tick has printed).
func TestContainerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repo, "contrib", "container", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if word, rest, ok := strings.Cut(line, " "); ok && word == strings.ToUpper(word) && !strings.HasPrefix(word, "#") {
			got[word] = rest
		}
	}
	if got["FROM"] != "scratch" {
		t.Errorf("FROM %q, want scratch", got["FROM"])
	}
	if user := got["USER"]; user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("USER %q: the container must not run as root", user)
	}
	if got["ENTRYPOINT"] != `["/usr/local/bin/cleanup-stale"]` {
		t.Errorf("ENTRYPOINT %s", got["ENTRYPOINT"])
	}
	var cmd []string
	if err := json.Unmarshal([]byte(got["CMD"]), &cmd); err != nil || strings.Join(cmd, " ") != "--every 5m" {
		t.Fatalf("CMD %s (%v), want --every 5m", got["CMD"], err)
	}
	// The health check runs the binary itself (scratch has no shell), and
	// gives a run time to finish.
	_, check, _ := strings.Cut(got["HEALTHCHECK"], " CMD ")
	var hc []string
	if err := json.Unmarshal([]byte(check), &hc); err != nil || strings.Join(hc, " ") != "/usr/local/bin/cleanup-stale health" ||
		!strings.Contains(got["HEALTHCHECK"], "--timeout=20s") {
		t.Errorf("HEALTHCHECK %s (%v), want exec form, cleanup-stale health", got["HEALTHCHECK"], err)
	}
	dir := install(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		args := append([]string{"cleanup-stale"}, cmd...)
		done <- Run(ctx, append(args, "--db", filepath.Join(dir, "db.sqlite3"), "--media-root", filepath.Join(dir, "media"),
			"--now", refNow, "--dry-run"), &out, &errOut)
	}()
	waitFor(t, "the first tick", func() bool { return strings.HasPrefix(out.String(), "DRY RUN: would delete 66 ") })
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after the stop; stderr %q", code, errOut.String())
	}
}

// TestCompose: in contrib/compose.yaml the sidecar runs as the web app's
// user, sees the same volumes at the same paths, and its database and
// MEDIA_ROOT are on them, MEDIA_ROOT being the web app's.
func TestCompose(t *testing.T) {
	python := "/usr/bin/python3"
	script := `import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))`
	b, err := exec.Command(python, "-c", script, filepath.Join(repo, "contrib", "compose.yaml")).Output()
	if err != nil {
		dbtest.Unavailable(t, fmt.Sprintf("python3 with PyYAML (Debian's python3-yaml) is needed: %v", err))
	}
	var compose struct {
		Services map[string]struct {
			Image       string
			User        string
			Environment map[string]string
			Volumes     []string
			Restart     string
			Command     any
			Healthcheck any
			NetworkMode string `json:"network_mode"`
			Networks    []string
			ReadOnly    bool     `json:"read_only"`
			CapDrop     []string `json:"cap_drop"`
		}
		Networks map[string]struct{ Internal bool }
	}
	if err := json.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	web, side := compose.Services["web"], compose.Services["cleanup"]
	if !strings.Contains(side.Image, "cleanup-stale") {
		t.Errorf("the sidecar's image %q", side.Image)
	}
	if side.User == "" || side.User != web.User {
		t.Errorf("sidecar user %q, web app user %q: they must be the same", side.User, web.User)
	}
	if !slices.Equal(side.Volumes, web.Volumes) {
		t.Errorf("sidecar volumes %v, web app volumes %v", side.Volumes, web.Volumes)
	}
	mounted := func(p string) bool {
		for _, v := range side.Volumes {
			if _, target, _ := strings.Cut(v, ":"); p == target || strings.HasPrefix(p, target+"/") {
				return true
			}
		}
		return false
	}
	db, media := side.Environment["CLEANUP_STALE_DB"], side.Environment["MEDIA_ROOT"]
	if !mounted(db) || !mounted(media) || media != web.Environment["MEDIA_ROOT"] {
		t.Errorf("database %q and MEDIA_ROOT %q must be on the shared volumes, MEDIA_ROOT the web app's (%q)",
			db, media, web.Environment["MEDIA_ROOT"])
	}

	// One image name: the one the docs and the Containerfile build.
	if side.Image != "localhost/cleanup-stale:latest" {
		t.Errorf("the sidecar's image %q, want localhost/cleanup-stale:latest", side.Image)
	}
	for _, f := range []string{filepath.Join("docs", "operating.md"), filepath.Join("contrib", "container", "Containerfile")} {
		b, err := os.ReadFile(filepath.Join(repo, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("podman build --format docker -t localhost/cleanup-stale ")) {
			t.Errorf("%s does not build the image as localhost/cleanup-stale, with --format docker", f)
		}
	}
	// No crash loop: the loop survives what a run finds (TestLoopThroughConfigErrors),
	// and a bad setting is restarted a few times only.
	if side.Restart != "on-failure:3" {
		t.Errorf("restart: %q, want on-failure:3", side.Restart)
	}
	// Settings in the environment only, where the image's health check
	// finds them too; and no healthcheck: of its own, which
	// podman-compose 1.0.3 would run through a shell that scratch lacks.
	if side.Command != nil || side.Healthcheck != nil {
		t.Errorf("the sidecar sets command %v, healthcheck %v: want neither", side.Command, side.Healthcheck)
	}
	// No network (podman-compose 1.0.3 refuses network_mode: none), no
	// root file system to write, no capabilities.
	if side.NetworkMode != "" || len(side.Networks) != 1 || !compose.Networks[side.Networks[0]].Internal || len(web.Networks) != 0 {
		t.Errorf("the sidecar's network_mode %q, networks %v (%+v): want one internal network, the web app on the default",
			side.NetworkMode, side.Networks, compose.Networks)
	}
	if !side.ReadOnly || !slices.Equal(side.CapDrop, []string{"ALL"}) {
		t.Errorf("read_only %v, cap_drop %v", side.ReadOnly, side.CapDrop)
	}
}
