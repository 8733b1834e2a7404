package fs_test

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/s3test"
)

// deleteAnswer answers a DeleteObjects request for the keys asked, in
// place of the server.
type deleteAnswer func(w http.ResponseWriter, keys []string)

// withDeleteAnswer opens the test bucket through a proxy that passes every
// request to the server but DeleteObjects, which answer answers: a server
// that fails some keys, or forgets them, without having to make one.
func withDeleteAnswer(t *testing.T, s *s3test.S3, answer deleteAnswer) *fs.S3Fs {
	t.Helper()
	target, err := url.Parse(os.Getenv(s3test.S3EndpointEnv))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !r.URL.Query().Has("delete") {
			proxy.ServeHTTP(w, r)
			return
		}
		var req struct {
			Objects []struct{ Key string } `xml:"Object"`
		}
		if err := xml.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("DeleteObjects body: %v", err)
		}
		var keys []string
		for _, o := range req.Objects {
			keys = append(keys, o.Key)
		}
		answer(w, keys)
	}))
	t.Cleanup(srv.Close)
	return newS3Fs(t, s, s.EnvVia(srv.URL))
}

// TestS3RemoveManyResults: each name gets the server's word on its own key,
// and a key the server says nothing about is not taken for removed.
func TestS3RemoveManyResults(t *testing.T) {
	s := s3test.NewS3(t)
	fsys := withDeleteAnswer(t, s, func(w http.ResponseWriter, keys []string) {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
		for _, k := range keys {
			var ek strings.Builder
			xml.EscapeText(&ek, []byte(k))
			switch {
			case strings.HasSuffix(k, "denied.stl"):
				b.WriteString(`<Error><Key>` + ek.String() + `</Key><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>`)
			case strings.HasSuffix(k, "nosuchkey.stl"):
				b.WriteString(`<Error><Key>` + ek.String() + `</Key><Code>NoSuchKey</Code><Message>gone</Message></Error>`)
			case strings.HasSuffix(k, "forgotten.stl"):
			default:
				b.WriteString(`<Deleted><Key>` + ek.String() + `</Key></Deleted>`)
			}
		}
		b.WriteString(`</DeleteResult>`)
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(b.String()))
	})
	names := []string{"stl/denied.stl", "stl/forgotten.stl", "stl/ok ü.stl", "stl/nosuchkey.stl", "stl/ok ü.stl"}
	s.Write(t, names...)
	errs := removeNow(fsys, names...)
	for i, wantErr := range []bool{true, true, false, false, false} {
		if (errs[i] != nil) != wantErr {
			t.Errorf("RemoveMany: %q: %v, want error: %v", names[i], errs[i], wantErr)
		}
	}
	t.Logf("errors: %v", errs)
}

// TestS3RemoveManyRefused: a DeleteObjects request that fails as a whole
// fails every name in it.
func TestS3RemoveManyRefused(t *testing.T) {
	s := s3test.NewS3(t)
	fsys := withDeleteAnswer(t, s, func(w http.ResponseWriter, _ []string) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>`))
	})
	s.Write(t, "stl/a.stl", "stl/b.stl")
	errs := removeNow(fsys, "stl/a.stl", "stl/b.stl")
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "Access Denied") {
			t.Errorf("name %d: %v, want Access Denied", i, err)
		}
	}
	if got := s.Files(t); len(got) != 2 {
		t.Errorf("files left = %q", got)
	}
}
