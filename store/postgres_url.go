package store

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// A PostgreSQL URL holds the password, and its text ends up in messages,
// in logs and in Name. Go's net/url and pgx do not split a malformed URL
// in the same places: with an unescaped '@' or '/' in the password, pgx
// took part of it for the host name ("lookup cret@…") or the database,
// where no redaction looked for it. So the tool takes a URL only when it
// has a single reading, and says what is wrong with any other without
// quoting a byte of it past the scheme.

// mustEscape is the advice for a URL that can be read more than one way.
const mustEscape = "in the user name and the password, percent-encode @ / ? # % and spaces (@ is %40)"

// parsePostgresURL parses raw, a postgres:// or postgresql:// URL, for
// pgx. A URL that has more than one reading (see splitURL) fails with
// ErrInvalidURL in a message that holds no part of it beyond its scheme;
// one that pgx refuses (a port out of range, an sslmode it does not know)
// in a message that shows it without its passwords.
func parsePostgresURL(raw string) (*url.URL, *pgx.ConnConfig, error) {
	u, err := splitURL(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w %s: %v", ErrInvalidURL, hiddenURL(raw), err)
	}
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w %s: %s", ErrInvalidURL, displayURL(u), scrub(pgxProblem(err), raw))
	}
	if pw, ok := u.User.Password(); ok && cfg.Password != pw {
		return nil, nil, fmt.Errorf("%w %s: it can be read more than one way: %s", ErrInvalidURL, hiddenURL(raw), mustEscape)
	}
	return u, cfg, nil
}

// splitURL parses raw with net/url, and fails unless that is its only
// reading: its only '@' ends the user part, it has no fragment, and every
// parameter is key=value, percent-encoded as it should be (net/url would
// drop a malformed one, password= included, from what it hides). The
// error never quotes raw.
func splitURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New(urlProblem(err, raw))
	}
	ats := 0
	if u.User != nil {
		ats = 1
	}
	if strings.Count(raw, "@") != ats || strings.Contains(raw, "#") {
		return nil, errors.New("it can be read more than one way: " + mustEscape)
	}
	if _, err := url.ParseQuery(u.RawQuery); err != nil {
		return nil, errors.New("a malformed parameter (in values, percent-encode % ; & as %25 %3B %26)")
	}
	if u.RawQuery != "" {
		for _, kv := range strings.Split(u.RawQuery, "&") {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				return nil, errors.New("a parameter that is not key=value (in a password= parameter, percent-encode & as %26)")
			}
		}
	}
	return u, nil
}

// urlProblem says what net/url found wrong with raw, in fixed words: its
// own messages quote the URL, or the part of it that failed, which may be
// the password.
func urlProblem(err error, raw string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	problem := "it cannot be parsed"
	switch msg := err.Error(); {
	case strings.HasPrefix(msg, "invalid port"):
		problem = "invalid port"
	case strings.HasPrefix(msg, "invalid URL escape"):
		problem = "an invalid %-escape"
	case strings.Contains(msg, "in host name"):
		problem = "an invalid character in the host name"
	}
	if strings.Contains(raw, "@") {
		problem += " (" + mustEscape + ")"
	}
	return problem
}

// pgxProblem is what pgx says of a URL it cannot parse, without the URL
// that it quotes first ("cannot parse `URL`: problem"): a port out of
// range, an sslmode it does not know, a certificate it cannot read.
func pgxProblem(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		msg = msg[i+len("`: "):]
	}
	return msg
}

// hiddenURL stands for a URL that could not be parsed: its scheme only.
func hiddenURL(raw string) string {
	scheme, _, _ := strings.Cut(raw, "://")
	return scheme + "://…"
}

// displayURL is u without its passwords: the user part's, and the
// password= and sslpassword= parameters.
func displayURL(u *url.URL) string {
	v := *u
	if v.User != nil {
		v.User = url.User(v.User.Username())
	}
	if q := v.Query(); q.Has("password") || q.Has("sslpassword") {
		q.Del("password")
		q.Del("sslpassword")
		v.RawQuery = q.Encode()
	}
	return v.String()
}

// redactURL returns a PostgreSQL URL for messages: without its
// passwords, or, if it has more than one reading, its scheme only.
func redactURL(raw string) string {
	u, err := splitURL(raw)
	if err != nil {
		return hiddenURL(raw)
	}
	return displayURL(u)
}

// urlSecrets returns the passwords of raw in every form they may take in
// a message: as written and decoded, from the user part (split at the
// first '@' and at the last, as pgx and net/url would) and from the
// password= and sslpassword= parameters.
func urlSecrets(raw string) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
			if d, err := url.PathUnescape(s); err == nil && d != s {
				out = append(out, d)
			}
			if d, err := url.QueryUnescape(s); err == nil && d != s {
				out = append(out, d)
			}
		}
	}
	_, rest, _ := strings.Cut(raw, "://")
	for _, i := range []int{strings.Index(rest, "@"), strings.LastIndex(rest, "@")} {
		if i >= 0 {
			_, pw, _ := strings.Cut(rest[:i], ":")
			add(pw)
		}
	}
	if _, query, ok := strings.Cut(raw, "?"); ok {
		for _, kv := range strings.Split(query, "&") {
			if k, v, _ := strings.Cut(kv, "="); k == "password" || k == "sslpassword" {
				add(v)
			}
		}
	}
	return out
}

// scrub removes the passwords of the URL raw from msg, in case a driver
// message quotes them.
func scrub(msg, raw string) string {
	for _, s := range urlSecrets(raw) {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return oneLine(msg)
}

// scrubbed is an error whose text may come from the driver, with the
// passwords of the URL raw removed from it.
type scrubbed struct {
	err error
	raw string
}

func (e scrubbed) Error() string { return scrub(e.err.Error(), e.raw) }
func (e scrubbed) Unwrap() error { return e.err }

// keywordString matches libpq's keyword/value connection strings
// ("host=db dbname=printdesk password=…").
var keywordString = regexp.MustCompile(`(^|\s)(host|hostaddr|port|dbname|user|password|passfile|sslmode|sslpassword|service|connect_timeout|options|application_name)\s*=`)

// plainScheme is a URL scheme that a message may quote.
var plainScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]{0,15}$`)

// notAPath refuses a database name that is no SQLite file's path but a
// connection string that the tool does not take: a URL of another scheme,
// or libpq's keyword/value string. Either may hold a password, so the
// message never quotes it. A file of that name, however odd, is a path.
func notAPath(name string) error {
	if _, err := os.Lstat(name); err == nil {
		return nil
	}
	if scheme, _, ok := strings.Cut(name, "://"); ok {
		if !plainScheme.MatchString(scheme) {
			scheme = "this scheme"
		}
		return fmt.Errorf("%w: %s:// is not supported: give a postgres:// URL or a SQLite file's path", ErrInvalidURL, scheme)
	}
	if keywordString.MatchString(name) {
		return fmt.Errorf("%w: a keyword/value connection string (host=… dbname=…) is not supported: give a postgres:// URL", ErrInvalidURL)
	}
	return nil
}
