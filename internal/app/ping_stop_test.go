package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stalledMonitor is a monitor that never answers. It records each request
// as it arrives, and when the client gives up on it (its connection
// closed), on channels the tests wait on.
type stalledMonitor struct {
	*httptest.Server
	arrived   chan string // a request's path, as it arrives
	abandoned chan string // its path, once the client has closed it
	stop      chan struct{}
	mu        sync.Mutex
	order     []string // "arrived PATH" and "abandoned PATH", in order
}

func newStalledMonitor(t *testing.T) *stalledMonitor {
	m := &stalledMonitor{arrived: make(chan string, 16), abandoned: make(chan string, 16), stop: make(chan struct{})}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices a client's hang-up only once the body is read
		m.note("arrived " + r.URL.Path)
		m.arrived <- r.URL.Path
		select {
		case <-r.Context().Done(): // the client gave up
			m.note("abandoned " + r.URL.Path)
			m.abandoned <- r.URL.Path
		case <-m.stop: // the test is over
		}
	}))
	t.Cleanup(func() {
		close(m.stop)
		m.Close()
	})
	return m
}

func (m *stalledMonitor) note(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.order = append(m.order, s)
}

func (m *stalledMonitor) events() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.order...)
}

// within waits for a value from ch, and fails the test if none comes
// within bound: a bound far beyond what the code under test may take
// (see each use), so that it fails only on a hang.
func within[T any](t *testing.T, ch <-chan T, bound time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(bound):
		t.Fatalf("%s: nothing within %s", what, bound)
		var zero T
		return zero
	}
}

// TestPingStartAbandonedOnStop: a stop (the run's context cancelled, as
// SIGTERM does) abandons the start ping at once, whatever the ping
// timeout (an hour here); the finish ping after a stop gets
// pingStopGrace, not the ping timeout. Both used to wait out the ping
// timeout: after SIGTERM, a stalled monitor held the run for the rest of
// the start ping plus a whole finish ping.
func TestPingStartAbandonedOnStop(t *testing.T) {
	defer func(d, g time.Duration) { pingTimeout, pingStopGrace = d, g }(pingTimeout, pingStopGrace)
	pingTimeout, pingStopGrace = time.Hour, 50*time.Millisecond
	m := newStalledMonitor(t)
	var logged syncBuffer
	p, err := newPinger(m.URL+"/"+secretUUID, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	go func() { p.start(ctx); close(started) }()
	if got := within(t, m.arrived, time.Minute, "the start ping"); got != "/"+secretUUID+"/start" {
		t.Fatalf("first ping %q", got)
	}
	cancel()
	within(t, started, 30*time.Second, "start to return after the stop")
	if got := within(t, m.abandoned, 30*time.Second, "the monitor to see the start ping closed"); got != "/"+secretUUID+"/start" {
		t.Errorf("abandoned %q", got)
	}

	finished := make(chan struct{})
	go func() { p.finish(ctx, 0, "exit 0"); close(finished) }()
	within(t, m.arrived, time.Minute, "the finish ping")
	within(t, finished, 30*time.Second, "finish to give up after pingStopGrace")
	within(t, m.abandoned, 30*time.Second, "the monitor to see the finish ping closed")
	if n := strings.Count(logged.String(), "level=WARN"); n != 1 || !strings.Contains(logged.String(), "no answer within 50ms of the stop") {
		t.Errorf("logged %q; want one warning, for the finish ping", logged.String())
	}
}

// TestPingFinishStoppedMidway: a stop that comes while the finish ping
// waits ends it pingStopGrace later, not a ping timeout later.
func TestPingFinishStoppedMidway(t *testing.T) {
	defer func(d, g time.Duration) { pingTimeout, pingStopGrace = d, g }(pingTimeout, pingStopGrace)
	pingTimeout, pingStopGrace = time.Hour, 50*time.Millisecond
	m := newStalledMonitor(t)
	p, err := newPinger(m.URL+"/"+secretUUID, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() { p.finish(ctx, 2, "exit 2: x"); close(finished) }()
	within(t, m.arrived, time.Minute, "the finish ping")
	cancel()
	within(t, finished, 30*time.Second, "finish to give up after pingStopGrace")
}

// TestSIGTERMWithAStalledMonitor: the real binary, a run with a ping URL
// whose monitor accepts and never answers. SIGTERM during the start ping
// abandons it (the monitor sees it closed, and the finish ping come),
// and the process is gone well within the 10 s that container runtimes
// give: the bound below is generous for the 2 s the finish ping gets, and
// still short of the 10 s the run used to take (the rest of the start
// ping, then a whole finish ping, 5 s each).
func TestSIGTERMWithAStalledMonitor(t *testing.T) {
	bin := binary(t)
	dir := install(t)
	m := newStalledMonitor(t)
	cmd := exec.Command(bin, "--db", filepath.Join(dir, "db.sqlite3"), "--media-root", filepath.Join(dir, "media"),
		"--now", refNow, "--ping-url", m.URL+"/"+secretUUID)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	exited := start(t, cmd)
	if got := within(t, m.arrived, time.Minute, "the start ping"); got != "/"+secretUUID+"/start" {
		t.Fatalf("first ping %q", got)
	}
	signalled := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	const bound = 8 * time.Second
	var err error
	select {
	case err = <-exited:
	case <-time.After(bound):
		t.Errorf("still running %s after SIGTERM; a container runtime kills at 10 s (events %q)", bound, m.events())
		err = waitExit(t, cmd, exited, "after SIGTERM")
	}
	took := time.Since(signalled)
	if err != nil {
		t.Errorf("exit: %v; stderr %q", err, stderr.String())
	}
	// The start ping was given up and the finish ping sent. (Which the
	// monitor noticed first is a race between two connections.)
	got := m.events()
	for _, want := range []string{"arrived /" + secretUUID + "/start", "abandoned /" + secretUUID + "/start", "arrived /" + secretUUID} {
		if !slices.Contains(got, want) {
			t.Errorf("the monitor saw %q; want %q among them", got, want)
		}
	}
	if strings.Contains(stderr.String(), secretUUID) {
		t.Errorf("stderr shows the secret: %q", stderr.String())
	}
	t.Logf("exited %s after SIGTERM; stderr %q", took.Round(time.Millisecond), stderr.String())
}

// TestPingRedactsSecretsOnly: redaction blanks the URL's secrets (the
// URL, its path and query, its password) wherever they stand whole, and
// nothing else: a user name "u" used to turn "connection refused" into
// "connection ref[redacted]sed".
func TestPingRedactsSecretsOnly(t *testing.T) {
	for _, c := range []struct{ url, msg, want string }{
		{"http://u:pw@127.0.0.1:1/" + secretUUID, "dial tcp 127.0.0.1:1: connect: connection refused",
			"dial tcp 127.0.0.1:1: connect: connection refused"},
		{"http://printdesk:hunter2@hc.example/ping/" + secretUUID, "bad credentials hunter2 for printdesk",
			"bad credentials [redacted] for printdesk"},
		{"http://u:e@hc.example/" + secretUUID, "the password e: refused", "the password [redacted]: refused"},
		{"http://u:e@hc.example/" + secretUUID, "reset by peer", "reset by peer"},
		{"https://hc.example/ping/" + secretUUID + "?rid=s3cr3t-run-id", "GET https://hc.example/ping/" + secretUUID + "?rid=s3cr3t-run-id failed",
			"GET [redacted] failed"},
		{"https://hc.example/ping/" + secretUUID, "no such check " + secretUUID + " here", "no such check [redacted] here"},
		{"https://hc.example/ping/" + secretUUID, "path /ping/" + secretUUID + "/start: 404", "path [redacted]/start: 404"},
		{"https://hc.example/ping/" + secretUUID + "?rid=s3cr3t-run-id", "query rid=s3cr3t-run-id", "query [redacted]"},
	} {
		p, err := newPinger(c.url, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.redact(errors.New(c.msg)); got != c.want {
			t.Errorf("%s: redact(%q) = %q, want %q", c.url, c.msg, got, c.want)
		}
	}
}
