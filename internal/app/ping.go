package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pingTimeout bounds each request to the monitor: a monitor that is down
// or slow delays a run by that much at most, and never fails it. (A
// variable for the tests.)
var pingTimeout = 5 * time.Second

// pingStopGrace is what the finish ping gets after a stop (SIGTERM,
// SIGINT, SIGHUP), in place of pingTimeout: long enough for a monitor
// that answers to hear how the run ended, short enough that the whole
// stop, S3's stopGrace included, stays well within the 10 s that
// container runtimes wait before they kill. The start ping is abandoned
// at once: a run that is stopping has nothing to start. (A variable for
// the tests.)
var pingStopGrace = 2 * time.Second

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

// start tells the monitor that a run has started. A stop abandons it at
// once, silently: the run is ending, and finish says how.
func (p *pinger) start(ctx context.Context) {
	p.send(ctx, "start", "", nil)
}

// finish tells the monitor how the run ended, with summary as the body.
// The end of a run is worth telling even after a stop, so a stop does not
// abandon it at once: from the stop on (before this ping or during it) it
// gets pingStopGrace more, and no more.
func (p *pinger) finish(ctx context.Context, status int, summary string) {
	suffix := ""
	if status != 0 {
		suffix = strconv.Itoa(status)
	}
	stopped := ctx
	graced, release := withGrace(ctx, pingStopGrace)
	defer release()
	p.send(graced, suffix, summary, stopped)
}

// send POSTs body to the ping URL with suffix appended to its path. It
// gives up when ctx ends or after p.timeout, and only logs what went
// wrong, unless it gave up because ctx ended before stopped did (a start
// ping cut short by a stop, whose stopped is nil).
func (p *pinger) send(ctx context.Context, suffix, body string, stopped context.Context) {
	u := p.base
	if suffix != "" {
		u = u.JoinPath(suffix)
	}
	outer := ctx
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(body))
	if err != nil {
		p.warn(suffix, err)
		return
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("User-Agent", "cleanup-stale")
	resp, err := p.client.Do(req)
	switch {
	case err != nil && outer.Err() != nil && stopped == nil:
		return // the start ping of a run that is stopping
	case err != nil && outer.Err() != nil:
		p.warn(suffix, fmt.Errorf("no answer within %s of the stop", pingStopGrace))
		return
	case err != nil:
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

// redact returns err's message without the ping URL's secrets: net/http's
// errors quote the request's URL ("Post \"https://...\": ..."), so only
// the cause is kept; and in case a cause quotes a secret too, the URL
// itself, its path, its long path segments (a check's UUID, a ping key),
// its query and its password are blanked out wherever they stand whole.
// Nothing shorter goes: the user name is no secret, and blanking a short
// string everywhere it occurs would garble the message ("connection
// ref[redacted]sed" for a user named u).
func (p *pinger) redact(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s", p.timeout)
	}
	return redactAll(oneLine(err), p.secrets())
}

// secrets lists what redact blanks out, longest first.
func (p *pinger) secrets() []string {
	u := p.base
	s := []string{u.String(), u.Redacted(), u.EscapedPath(), u.Path, u.RawQuery}
	if q, err := url.QueryUnescape(u.RawQuery); err == nil {
		s = append(s, q)
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= minSecretSegment {
			s = append(s, seg)
		}
	}
	if pw, ok := u.User.Password(); ok {
		s = append(s, pw, url.QueryEscape(pw))
	}
	s = slices.DeleteFunc(s, func(x string) bool { return strings.Trim(x, "/") == "" })
	slices.SortFunc(s, func(a, b string) int { return len(b) - len(a) })
	return s
}

// minSecretSegment is the length from which a segment of the ping URL's
// path counts as a secret on its own: a UUID has 36 characters, a
// healthchecks.io ping key 22; "ping" or a short slug is no secret.
const minSecretSegment = 16

// redactAll replaces each occurrence of each secret in msg that stands
// whole: not run on into a letter or digit where the secret itself
// begins or ends with one.
func redactAll(msg string, secrets []string) string {
	const mark = "[redacted]"
	for _, s := range secrets {
		var b strings.Builder
		rest := msg
		for {
			i := strings.Index(rest, s)
			if i < 0 {
				b.WriteString(rest)
				break
			}
			end := i + len(s)
			whole := !(isWordByte(s[0]) && i > 0 && isWordByte(rest[i-1])) &&
				!(isWordByte(s[len(s)-1]) && end < len(rest) && isWordByte(rest[end]))
			if whole {
				b.WriteString(rest[:i])
				b.WriteString(mark)
			} else {
				b.WriteString(rest[:i+1])
				end = i + 1
			}
			rest = rest[end:]
		}
		msg = b.String()
	}
	return msg
}

func isWordByte(c byte) bool {
	return c >= 0x80 || c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
