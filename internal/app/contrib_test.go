package app

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
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
