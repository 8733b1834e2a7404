package dbtest

import (
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Standby starts a hot standby of the test server (CLEANUP_STALE_TEST_PG),
// streaming from it, on 127.0.0.1 and a port of its own, and returns the
// URL u would have on it; it is stopped and removed when the test ends.
// Everything u's database holds when Standby is called is on the standby
// too. It needs the server's binaries (PG_BIN, or PostgreSQL 15's) and,
// as root, the postgres user to run the server as; without them the test
// is skipped, but under CI=true it fails.
func Standby(t testing.TB, u string) string {
	t.Helper()
	bin := os.Getenv("PG_BIN")
	if bin == "" {
		bin = "/usr/lib/postgresql/15/bin"
	}
	if _, err := os.Stat(filepath.Join(bin, "pg_basebackup")); err != nil {
		Unavailable(t, "no pg_basebackup in "+bin+" (apt-get install postgresql-15): cannot start a standby")
	}
	primary, err := url.Parse(u)
	if err != nil {
		t.Fatalf("dbtest: %s is not a URL: %v", u, err)
	}
	// asServer runs a server binary as postgres when this is root:
	// PostgreSQL refuses to run as root.
	asServer := func(name string, args ...string) *exec.Cmd {
		if os.Geteuid() == 0 {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(bin, name)}, args...)...)
		}
		return exec.Command(filepath.Join(bin, name), args...)
	}
	dir, err := os.MkdirTemp("", "cleanup-stale-standby-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres:", dir).CombinedOutput(); err != nil {
			Unavailable(t, "no postgres user to run a standby as: "+string(out))
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := asServer("pg_basebackup", "-h", primary.Hostname(), "-p", primary.Port(), "-U", "postgres",
		"-D", data, "-R", "-X", "stream", "--no-sync", "--checkpoint", "fast").CombinedOutput(); err != nil {
		t.Fatalf("dbtest: pg_basebackup: %v\n%s", err, out)
	}
	// A free port: one that nothing listened on a moment ago.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	opts := "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dir
	if out, err := asServer("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		t.Fatalf("dbtest: start the standby: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() { asServer("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").Run() })
	standby := *primary
	standby.Host = net.JoinHostPort("127.0.0.1", port)
	return standby.String()
}
