package app

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// badDatabaseNames are --db values that hold a password and are wrong:
// URLs that cannot be parsed or read one way only, bad settings, and
// connection strings of another kind. Each is a configuration error.
var badDatabaseNames = []string{
	"postgres://printdesk:Qq1@Ww2@127.0.0.1:1/printdesk",
	"postgres://printdesk:Qq1/Ww2@127.0.0.1:1/printdesk",
	"postgres://printdesk:5432/Ww2@127.0.0.1:1/printdesk",
	"postgres://printdesk:Qq1#Ww2@127.0.0.1:1/printdesk",
	"postgres://printdesk:Qq1%Ww2@127.0.0.1:1/printdesk",
	"postgres://printdesk:Qq1:Ww2@@127.0.0.1:1/printdesk",
	"postgres://printdesk:Qq1Ww2@127.0.0.1:port/printdesk",
	"postgres://printdesk:Qq1Ww2@127.0.0.1:99999/printdesk",
	"postgres://printdesk:Qq1Ww2@127.0.0.1:1/printdesk?sslmode=bogus",
	"postgres://printdesk@127.0.0.1:1/printdesk?password=Qq1&Ww2",
	"postgres://printdesk@127.0.0.1:1/printdesk?password=Qq1%zzWw2",
	"host=127.0.0.1 port=1 dbname=printdesk password=Qq1Ww2",
	"mysql://printdesk:Qq1Ww2@127.0.0.1/printdesk",
}

// showsPassword tells whether s shows a piece of the passwords above.
func showsPassword(s string) bool {
	return strings.Contains(s, "Qq1") || strings.Contains(s, "Ww2")
}

// TestBadDatabaseURL: each bad --db value is exit 2 in one line that never
// shows a piece of the password, in text or --json, in a dry run or a
// real one. They used to be exit 1, and some showed pieces of it
// ("lookup Ww2@127.0.0.1", the keyword string in full).
func TestBadDatabaseURL(t *testing.T) {
	dir := install(t)
	media := filepath.Join(dir, "media")
	before := fingerprint(t, dir)
	for _, db := range badDatabaseNames {
		for _, extra := range [][]string{nil, {"--json"}, {"--dry-run"}, {"stats", "--json"}} {
			r := runCLI(t, append([]string{"--db", db, "--media-root", media, "--state-dir", dir}, extra...)...)
			r.wantOneLineError(t, 2, "invalid database URL")
			if showsPassword(r.stdout + r.stderr) {
				t.Errorf("--db %s %v: the password shows: %q %q", db, extra, r.stdout, r.stderr)
			}
		}
	}
	if fingerprint(t, dir) != before {
		t.Error("the install changed")
	}
}

// TestPasswordNotInLogLines: a loop whose runs fail (the server is not
// there) logs each failure, and no log line shows the password; a URL
// that would have shown it (pgx took a piece of the password for the
// host) is refused at once.
func TestPasswordNotInLogLines(t *testing.T) {
	dir := install(t)
	for _, db := range append([]string{"postgres://printdesk:Qq1Ww2@127.0.0.1:1/printdesk",
		"postgres://printdesk:Qq1,Ww2@127.0.0.1:1/printdesk?sslmode=disable"}, badDatabaseNames...) {
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, stderr syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- Run(ctx, []string{"cleanup-stale", "--db", db, "--media-root", filepath.Join(dir, "media"),
				"--state-dir", dir, "--every", "1s", "--json"}, &stdout, &stderr)
		}()
		var code int
	wait:
		for {
			select {
			case code = <-done:
				break wait
			case <-time.After(time.Millisecond):
				if strings.Contains(stderr.String(), "run failed") {
					cancel()
				}
			}
		}
		cancel()
		if code == 0 && !strings.Contains(stderr.String(), "run failed") {
			t.Errorf("--db %s: the loop ended with exit 0 and logged no failure: %q", db, stderr.String())
		}
		if showsPassword(stdout.String() + stderr.String()) {
			t.Errorf("--db %s: the password shows: %q %q", db, stdout.String(), stderr.String())
		}
	}
}

// TestSIGTERMWhileConnecting: SIGTERM while the run waits for a server
// that accepted the connection and never answers is a stop, exit 0, not a
// failure. (Without the signal, the connect timeout would end the run
// with exit 1: the exit status tells which ended it.)
func TestSIGTERMWhileConnecting(t *testing.T) {
	bin := binary(t)
	dir := install(t)
	addr, accepted := dbtest.SilentListener(t)
	cmd := exec.Command(bin, "--db", "postgres://printdesk:secret@"+addr+"/printdesk", "--media-root", filepath.Join(dir, "media"),
		"--state-dir", dir)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	exited := start(t, cmd)
	select {
	case <-accepted:
	case err := <-exited:
		t.Fatalf("the run ended before it connected: %v; %q", err, stderr.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, cmd, exited, "while connecting"); err != nil {
		t.Errorf("after SIGTERM: %v; stderr %q", err, stderr.String())
	}
	if stdout.String() != "" || strings.Count(stderr.String(), "\n") > 1 || strings.Contains(stderr.String(), "error") {
		t.Errorf("a stop printed %q, logged %q; want at most one line of information", stdout.String(), stderr.String())
	}
}

// TestRoleThatMayNotLockRows: a role that may read and delete rows but not
// update them cannot run SELECT … FOR UPDATE, which every batch needs: the
// start check refuses it with exit 2, naming the privilege, and nothing is
// deleted. It used to pass the check and fail every run with exit 1.
func TestRoleThatMayNotLockRows(t *testing.T) {
	u, raw := dbtest.NewPostgres(t)
	dbtest.InsertPostgres(t, raw, dbtest.Row{Slug: "s-old", Status: "identifying", Created: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	role := fmt.Sprintf("cleanup_stale_app_role_%d", time.Now().UnixNano()%1e9)
	if _, err := raw.Exec(`CREATE ROLE ` + role + ` LOGIN`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		raw.Exec(`DROP OWNED BY ` + role)
		raw.Exec(`DROP ROLE ` + role)
	})
	if _, err := raw.Exec(`GRANT SELECT, DELETE ON ` + store.Table + ` TO ` + role); err != nil {
		t.Fatal(err)
	}
	as, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	as.User = url.User(role)
	dir := install(t)
	r := runCLI(t, "--db", as.String(), "--media-root", filepath.Join(dir, "media"), "--state-dir", dir)
	r.wantOneLineError(t, 2, "UPDATE privilege")
	if rows := dbtest.Rows(t, raw, "status"); len(rows) != 1 || rows["s-old"] != "identifying" {
		t.Errorf("rows after the refused run: %v", rows)
	}
}
