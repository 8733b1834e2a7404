package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// pingTimeout bounds each request to the monitor: a monitor that is down
// or slow delays a run by that much at most, and never fails it. (A
// variable for the tests.)
var pingTimeout = 5 * time.Second

// pinger tells a healthchecks.io-style monitor about each run, through its
// ping URL: URL/start when a run starts, then URL when it succeeds (exit
// 0), or URL/STATUS (URL/1, URL/2) when it fails. Healthchecks.io reads a
// non-zero status as a failure, and keeps the request's body (the run's
// one-line summary) with the ping.
//
// The URL holds the check's secret (its UUID, or a ping key): nothing
// prints it. Messages name the monitor by scheme and host only.
type pinger struct {
	base    *url.URL
	client  *http.Client
	timeout time.Duration
	log     *slog.Logger
}

// newPinger checks raw, the --ping-url. Its error never repeats raw.
func newPinger(raw string, log *slog.Logger) (*pinger, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		// url.Parse's own error quotes the URL, secret and all.
		return nil, usageError{errors.New("--ping-url: not an http:// or https:// URL with a host (the URL itself is not shown: it holds the check's secret)")}
	}
	return &pinger{base: u, client: &http.Client{}, timeout: pingTimeout, log: log}, nil
}

// monitor names the monitor in messages: scheme and host, without the
// path, the query or any user and password, which may hold the secret.
func (p *pinger) monitor() string {
	return p.base.Scheme + "://" + p.base.Host
}

// start tells the monitor that a run has started.
func (p *pinger) start(ctx context.Context) {
	p.send(ctx, "start", "")
}

// finish tells the monitor how the run ended, with summary as the body.
func (p *pinger) finish(ctx context.Context, status int, summary string) {
	suffix := ""
	if status != 0 {
		suffix = strconv.Itoa(status)
	}
	p.send(ctx, suffix, summary)
}

// send POSTs body to the ping URL with suffix appended to its path. It
// gives up after p.timeout, even once the run has been cancelled (SIGTERM:
// the end of a run is still worth telling), and only logs what went
// wrong.
func (p *pinger) send(ctx context.Context, suffix, body string) {
	u := p.base
	if suffix != "" {
		u = u.JoinPath(suffix)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(body))
	if err != nil {
		p.warn(suffix, err)
		return
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("User-Agent", "cleanup-stale")
	resp, err := p.client.Do(req)
	if err != nil {
		p.warn(suffix, err)
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		p.warn(suffix, fmt.Errorf("the monitor answered %s", resp.Status))
	}
}

// warn logs a ping that failed, without the URL.
func (p *pinger) warn(suffix string, err error) {
	what := "finish"
	if suffix == "start" {
		what = "start"
	}
	p.log.Warn("cannot ping the monitor; the cleanup is not affected",
		"monitor", p.monitor(), "ping", what, "error", p.redact(err))
}

// redact returns err's message without the ping URL: net/http's errors
// quote the request's URL ("Post \"https://...\": ..."), so only the
// cause is kept; and in case a cause quotes it too, the URL's path, query
// and password are blanked out.
func (p *pinger) redact(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s", p.timeout)
	}
	msg := oneLine(err)
	secrets := []string{p.base.RawQuery, p.base.EscapedPath(), p.base.Path}
	if pw, ok := p.base.User.Password(); ok {
		secrets = append(secrets, pw, p.base.User.Username())
	}
	for _, s := range secrets {
		if len(strings.Trim(s, "/")) > 0 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}
