package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSystemdUnits: the units pass `systemd-analyze verify` without a
// single warning, and the service keeps the hardening the README promises.
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
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 with PyYAML (Debian's python3-yaml) is needed: %v", err)
		}
		t.Skipf("python3 with PyYAML is not installed here: %v", err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string
			User        string
			Environment map[string]string
			Volumes     []string
		}
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
}
