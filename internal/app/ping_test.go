package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// secretUUID stands for the check's UUID in a ping URL: the secret that
// must never be printed.
const secretUUID = "0d338dcc-a054-11ec-b909-0242ac120002"

// monitor is a healthchecks.io-style monitor: it records each ping as
// "METHOD PATH BODY" and answers with status.
type monitor struct {
	*httptest.Server
	mu     sync.Mutex
	pings  []string
	status int
}

func newMonitor(t *testing.T) *monitor {
	m := &monitor{status: http.StatusOK}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		m.mu.Lock()
		m.pings = append(m.pings, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+string(b)))
		status := m.status
		m.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(m.Close)
	return m
}

// take returns the pings so far and forgets them.
func (m *monitor) take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pings
	m.pings = nil
	return p
}

func (m *monitor) url() string { return m.URL + "/ping/" + secretUUID }

// TestPingURL: a real run pings URL/start, then URL on success or
// URL/STATUS on failure, with the run's summary as the body; a dry run
// pings nothing.
func TestPingURL(t *testing.T) {
	m := newMonitor(t)
	dir := install(t)
	db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
	base := "POST /ping/" + secretUUID
	check := func(what string, r result, code int, want ...string) {
		t.Helper()
		if r.code != code {
			t.Errorf("%s: exit %d, want %d (stderr %q)", what, r.code, code, r.stderr)
		}
		if got := m.take(); !slices.Equal(got, want) {
			t.Errorf("%s: pings\n%q\nwant\n%q", what, got, want)
		}
	}

	check("dry run", runCLI(t, "--db", db, "--media-root", media, "--now", refNow, "--dry-run", "--ping-url", m.url()), 0)
	check("success", runCLI(t, "--db", db, "--media-root", media, "--now", refNow, "--ping-url", m.url()), 0,
		base+"/start", base+" exit 0: 66 stale, 66 deleted, 0 left behind, 0 pending finished")

	t.Setenv("CLEANUP_STALE_PING_URL", m.url()) // the environment works as well as the flag
	check("nothing to do", runCLI(t, "--db", db, "--media-root", media, "--now", refNow), 0,
		base+"/start", base+" exit 0: 0 stale, 0 deleted, 0 left behind, 0 pending finished")
	check("no MEDIA_ROOT", runCLI(t, "--db", db, "--media-root", filepath.Join(dir, "nope")), 2,
		base+"/start", base+"/2 exit 2: MEDIA_ROOT not usable: stat "+filepath.Join(dir, "nope")+": no such file or directory")
	check("no database", runCLI(t, "--db", filepath.Join(dir, "nope.sqlite3")), 2,
		base+"/start", base+"/2 exit 2: database not found: "+filepath.Join(dir, "nope.sqlite3"))

	dir2 := install(t)
	db2 := filepath.Join(dir2, "db.sqlite3")
	release := holdWriteLock(t, db2)
	r := runCLI(t, "--db", db2, "--media-root", filepath.Join(dir2, "media"), "--now", refNow, "--busy-timeout", "50ms")
	release()
	got := m.take()
	if r.code != 1 || len(got) != 2 || got[0] != base+"/start" || !strings.HasPrefix(got[1], base+"/1 exit 1: ") ||
		!strings.Contains(got[1], "is locked") {
		t.Errorf("locked database: exit %d, pings %q", r.code, got)
	}
}

// TestPingSecretNeverPrinted: whatever goes wrong with the monitor, the
// run goes on, exits as it would have, and no message shows the URL's
// path, query or password: only its scheme and host.
func TestPingSecretNeverPrinted(t *testing.T) {
	m := newMonitor(t)
	m.status = http.StatusInternalServerError
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // connection refused
	dir := install(t)
	args := []string{"--db", filepath.Join(dir, "db.sqlite3"), "--media-root", filepath.Join(dir, "media"), "--now", refNow}
	noSecret := func(what string, s string) {
		t.Helper()
		for _, secret := range []string{secretUUID, "hunter2", "ping/", "s3cr3t"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %q: %q", what, secret, s)
			}
		}
	}
	for _, c := range []struct{ url, host, says string }{
		{m.url() + "?rid=s3cr3t", m.URL, "the monitor answered 500 Internal Server Error"},
		{strings.Replace(m.url(), "http://", "http://printdesk:hunter2@", 1), m.URL, "answered 500"},
		{dead.URL + "/ping/" + secretUUID, dead.URL, "connection refused"},
	} {
		r := runCLI(t, append(args, "--ping-url", c.url)...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 0 || len(lines) != 2 {
			t.Errorf("exit %d, stderr %q; want exit 0 and a warning for each ping", r.code, r.stderr)
		}
		for _, l := range lines {
			if !strings.Contains(l, "level=WARN") || !strings.Contains(l, "monitor="+c.host+" ") || !strings.Contains(l, c.says) {
				t.Errorf("warning %q does not name the monitor %s and say %q", l, c.host, c.says)
			}
		}
		noSecret("stderr", r.stderr)
		noSecret("stdout", r.stdout)
	}

	// A URL refused at the start never appears in the refusal.
	for _, bad := range []string{"ftp://hc-ping.com/" + secretUUID, "http://[::1/" + secretUUID, "hc-ping.com/" + secretUUID, "http:///" + secretUUID} {
		for _, extra := range [][]string{nil, {"--dry-run"}, {"--every", "1m"}} {
			r := runCLI(t, append(append(args, "--ping-url", bad), extra...)...)
			r.wantOneLineError(t, 2, "--ping-url: not an http:// or https:// URL")
			noSecret("the refusal", r.stderr)
		}
	}
	t.Setenv("CLEANUP_STALE_PING_URL", m.url())
	r := runCLI(t, "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "$CLEANUP_STALE_PING_URL") {
		t.Errorf("--help: exit %d, %q", r.code, r.stdout)
	}
	noSecret("--help", r.stdout)
}

// TestPingHangingMonitor: a monitor that never answers delays a run by
// the ping timeout at most and does not fail it. The monitor blocks every
// request until the test lets it go, which it does only once the run has
// returned: the run finished while the monitor was still holding its
// requests.
func TestPingHangingMonitor(t *testing.T) {
	defer func(d time.Duration) { pingTimeout = d }(pingTimeout)
	pingTimeout = 500 * time.Millisecond
	release := make(chan struct{})
	var mu sync.Mutex
	var arrived []string
	answered := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived = append(arrived, r.URL.Path)
		mu.Unlock()
		<-release // not even the client's giving up ends the wait
		mu.Lock()
		answered++
		mu.Unlock()
	}))
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the handlers

	dir := install(t)
	db := filepath.Join(dir, "db.sqlite3")
	ran := make(chan result, 1)
	go func() {
		var out, errOut syncBuffer
		code := Run(context.Background(), []string{"cleanup-stale", "--db", db, "--media-root", filepath.Join(dir, "media"),
			"--now", refNow, "--ping-url", srv.URL + "/" + secretUUID}, &out, &errOut)
		ran <- result{code, out.String(), errOut.String()}
	}()
	var r result
	select {
	case r = <-ran:
	case <-time.After(time.Minute): // what a hang looks like; the pings time out after 2 × 500 ms
		t.Fatal("the run is still waiting for the monitor")
	}
	mu.Lock()
	answeredDuringRun := answered
	mu.Unlock()
	if answeredDuringRun != 0 {
		t.Fatalf("the monitor answered %d pings before it was released", answeredDuringRun)
	}
	if r.code != 0 || r.stdout != "Deleted 66 stale submission(s) older than 24 h.\n" || countRows(t, db) != 411-66 {
		t.Errorf("exit %d, stdout %q: the run did not do its work", r.code, r.stdout)
	}
	if n := strings.Count(r.stderr, "no answer within 500ms"); n != 2 || strings.Contains(r.stderr, secretUUID) {
		t.Errorf("stderr %q: want two warnings, without the secret", r.stderr)
	}
	// Both pings were sent: the start's silence did not stop the end's.
	waitFor(t, "both pings to reach the monitor", func() bool { mu.Lock(); defer mu.Unlock(); return len(arrived) == 2 })
	mu.Lock()
	defer mu.Unlock()
	if slices.Sort(arrived); !slices.Equal(arrived, []string{"/" + secretUUID, "/" + secretUUID + "/start"}) {
		t.Errorf("pings %q", arrived)
	}
}
