package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
	"github.com/cleanup-stale/cleanup-stale/store"
)

// The password's pieces: none of them may show anywhere, whatever the
// characters between them do to the URL.
var secretTokens = []string{"Qq1", "Ww2", "Ee3"}

// secretSeparators are the characters that a password may hold unescaped
// by mistake, and that split URLs.
var secretSeparators = []string{"@", ":", "/", "?", "#", "%", "%4", "%zz", " ", ",", "[", "]", "`", "&", "=", "@@", ":@", "/@", "5432/", "@h:1/", ""}

// secretURLs returns URLs of many malformed shapes, each with a password
// built from the tokens, the user part's or a parameter's.
func secretURLs() []string {
	var out []string
	for _, sep := range secretSeparators {
		pw := "Qq1" + sep + "Ww2" + sep + "Ee3"
		for _, shape := range []string{
			"postgres://user:PW@127.0.0.1:1/db",
			"postgresql://user:PW@127.0.0.1:1/db?sslmode=disable",
			"postgres://user:PW@localhost:1/db",
			"postgres://user:PW@127.0.0.1:port/db",
			"postgres://user:PW@127.0.0.1:99999/db",
			"postgres://user:PW@127.0.0.1:1/db?sslmode=bogus",
			"postgres://user:PW@127.0.0.1:1/db?connect_timeout=soon",
			"postgres://user:PW@[::1/db",
			"postgres://user:PW@127.0.0.1:1,127.0.0.2:1/db",
			"postgres://user:PW@127.0.0.1:1",
			"postgres://user:PW@/db?host=/nonexistent",
			"postgres://user@127.0.0.1:1/db?password=PW",
			"postgres://user@127.0.0.1:1/db?sslmode=require&sslpassword=PW",
			"postgres://user:PW@127.0.0.1:1/db#frag",
			"postgres://:PW@127.0.0.1:1/db",
			"postgres://us er:PW@127.0.0.1:1/db",
		} {
			out = append(out, strings.Replace(shape, "PW", pw, 1))
		}
	}
	return out
}

// showsSecret returns the first token of the password that s shows.
func showsSecret(s string) string {
	for _, tok := range secretTokens {
		if strings.Contains(s, tok) {
			return tok
		}
	}
	return ""
}

// TestPostgresURLNeverShowsThePassword: for every malformed shape (an
// unescaped @ : / ? # % in the password, a bad port, a bad setting), no
// part of the password shows in an error or in DisplayName, and every
// error is one line. Malformed URLs used to leak fragments ("lookup
// cret@127.0.0.1", "xxxxx@ss:xxxxxx@").
func TestPostgresURLNeverShowsThePassword(t *testing.T) {
	for _, raw := range secretURLs() {
		if tok := showsSecret(store.DisplayName(raw)); tok != "" {
			t.Errorf("DisplayName(%s) = %q shows %q", raw, store.DisplayName(raw), tok)
		}
		for _, ro := range []bool{true, false} {
			bounded, cancel := context.WithTimeout(ctx, 20*time.Second)
			d, err := store.Open(bounded, raw, opts(ro))
			cancel()
			if err == nil {
				d.Close()
				t.Errorf("Open(%s) succeeded", raw)
				continue
			}
			if msg := err.Error(); showsSecret(msg) != "" || strings.ContainsAny(msg, "\r\n") {
				t.Errorf("Open(%s): %q shows %q or spans lines", raw, msg, showsSecret(msg))
			}
		}
	}
}

// FuzzPostgresURLPassword: whatever a password holds, no piece of it
// around the fuzzed middle shows in DisplayName or in Open's error (with
// the context already ended, so that nothing is dialled).
func FuzzPostgresURLPassword(f *testing.F) {
	for _, sep := range secretSeparators {
		f.Add(sep)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	f.Fuzz(func(t *testing.T, middle string) {
		if strings.ContainsAny(middle, "\x00") {
			return
		}
		for _, raw := range []string{
			"postgres://user:Qq1" + middle + "Ww2@127.0.0.1:1/db",
			"postgres://user:Qq1" + middle + "Ww2@127.0.0.1:1/db?sslmode=disable",
		} {
			if tok := showsSecret(store.DisplayName(raw)); tok != "" {
				t.Fatalf("DisplayName(%q) = %q shows %q", raw, store.DisplayName(raw), tok)
			}
			if _, err := store.Open(done, raw, opts(true)); err != nil && showsSecret(err.Error()) != "" {
				t.Fatalf("Open(%q): %q shows the password", raw, err)
			}
		}
	})
}

// TestPostgresBadURLIsConfiguration: a URL that cannot be parsed, or read
// one way only, a bad port and a bad TLS setting are ErrInvalidURL (exit
// 2, a configuration error), not a failure of the run (exit 1), and say
// what is wrong.
func TestPostgresBadURLIsConfiguration(t *testing.T) {
	for _, tc := range []struct{ raw, mention string }{
		{"postgres://user:secret@127.0.0.1:port/db", "invalid port"},
		{"postgres://user:secret@127.0.0.1:99999/db", "invalid port"},
		{"postgres://user:secret@127.0.0.1:1/db?sslmode=bogus", "sslmode is invalid"},
		{"postgres://user:secret@127.0.0.1:1/db?sslmode=verify-full&sslrootcert=/nonexistent", "unable to read CA file"},
		{"postgres://user:secret@127.0.0.1:1/db?connect_timeout=soon", "invalid connect_timeout"},
		{"postgres://user:se@cret@127.0.0.1:1/db", "percent-encode"},
		{"postgres://user:se/cret@127.0.0.1:1/db", "percent-encode"},
		{"postgres://user:12/cret@127.0.0.1:1/db", "percent-encode"},
		{"postgres://user:se#cret@127.0.0.1:1/db", "percent-encode"},
		{"postgres://user:se%zzcret@127.0.0.1:1/db", "%-escape"},
		{"postgres://user:secret@[::1/db", "postgres://…"},
		{"mysql://user:secret@127.0.0.1/db", "mysql:// is not supported"},
	} {
		d, err := store.Open(ctx, tc.raw, opts(true))
		if err == nil {
			d.Close()
		}
		if !errors.Is(err, store.ErrInvalidURL) || !strings.Contains(err.Error(), tc.mention) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%s) = %v; want ErrInvalidURL saying %q, without the password", tc.raw, err, tc.mention)
		}
	}
}

// TestKeywordStringsAreRefused: libpq's keyword/value strings are not
// taken as --db (the tool takes postgres:// URLs), and the message never
// echoes one: it used to say "database not found: host=… password=…". A
// file that happens to have such a name is still a path.
func TestKeywordStringsAreRefused(t *testing.T) {
	for _, dsn := range []string{
		"host=127.0.0.1 port=1 dbname=printdesk user=printdesk password=KwSecret77",
		"password=KwSecret77 host=127.0.0.1",
		"host=db password='Kw Secret77'",
		"dbname=printdesk",
	} {
		d, err := store.Open(ctx, dsn, opts(true))
		if err == nil {
			d.Close()
		}
		if !errors.Is(err, store.ErrInvalidURL) || strings.Contains(err.Error(), "Secret77") || strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("Open(%q) = %v; want ErrInvalidURL that does not echo it", dsn, err)
		}
		if n := store.DisplayName(dsn); strings.Contains(n, "Secret77") {
			t.Errorf("DisplayName(%q) = %q", dsn, n)
		}
	}
	odd := filepath.Join(t.TempDir(), "host=x password=y")
	if err := os.WriteFile(odd, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, odd, opts(true)); !errors.Is(err, store.ErrNotDatabase) {
		t.Errorf("Open of a file named like a keyword string = %v; want ErrNotDatabase", err)
	}
}

// TestPostgresConnectTimesOut: a server that accepts the connection and
// never answers fails the open after the connect timeout (a default when
// the URL sets none, or the URL's connect_timeout), instead of hanging
// until killed.
func TestPostgresConnectTimesOut(t *testing.T) {
	addr, _ := dbtest.SilentListener(t)
	defer store.SetConnectTimeout(200 * time.Millisecond)()
	for _, tc := range []struct{ raw, mention string }{
		{"postgres://user:secret@" + addr + "/db", "no answer within 200ms"},
		{"postgres://user:secret@" + addr + "/db?connect_timeout=1", "no answer within 1s"},
	} {
		done := make(chan error, 1)
		go func() {
			d, err := store.Open(context.Background(), tc.raw, opts(true))
			if err == nil {
				d.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.mention) || strings.Contains(err.Error(), "secret") {
				t.Errorf("Open(%s) = %v; want a timeout saying %q", tc.raw, err, tc.mention)
			}
		case <-time.After(time.Minute): // no measure of speed: without a timeout it never returns
			t.Fatalf("Open(%s) still waiting for a server that never answers after a minute", tc.raw)
		}
	}
}
