package store

import (
	"net/url"
	"strings"
)

// redactURL returns a PostgreSQL URL without its password, for Name and
// for messages: the password of the user part, and a password=
// parameter. A URL that net/url cannot parse loses its whole user part
// and query instead: its password cannot be told apart reliably.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		scheme, rest, _ := strings.Cut(raw, "://")
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			rest = rest[i+1:]
		}
		rest, _, _ = strings.Cut(rest, "?")
		return scheme + "://" + rest
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.User(u.User.Username())
	}
	if q := u.Query(); q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// urlSecrets returns the password of raw in every form it may take in a
// message: as written and decoded, from the user part and from a
// password= parameter. It guesses as redactURL does when net/url cannot
// parse raw.
func urlSecrets(raw string) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
			if d, err := url.PathUnescape(s); err == nil && d != s {
				out = append(out, d)
			}
		}
	}
	_, rest, _ := strings.Cut(raw, "://")
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		_, pw, _ := strings.Cut(rest[:i], ":")
		add(pw)
	}
	if _, query, ok := strings.Cut(raw, "?"); ok {
		for _, kv := range strings.Split(query, "&") {
			if k, v, _ := strings.Cut(kv, "="); k == "password" {
				add(v)
			}
		}
	}
	return out
}

// scrub removes the password of the URL raw from msg, in case a driver
// message quotes the URL.
func scrub(msg, raw string) string {
	for _, s := range urlSecrets(raw) {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return oneLine(msg)
}
