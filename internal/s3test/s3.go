// Package s3test is this repository's own S3 test kit: a fresh bucket on the
// S3-compatible server that .ci/s3 starts (versitygw), named by the
// CLEANUP_STALE_TEST_S3_* variables, and a recorder of the requests that
// reach it. It is internal: it may change with the tests.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The variables that name the S3-compatible server for the tests, and its
// root credentials. .ci/s3 starts one and prints them.
const (
	S3EndpointEnv = "CLEANUP_STALE_TEST_S3_ENDPOINT"
	S3KeyEnv      = "CLEANUP_STALE_TEST_S3_KEY"
	S3SecretEnv   = "CLEANUP_STALE_TEST_S3_SECRET"
	// S3DataEnv is the server's posix data directory, where each bucket is
	// a directory: optional, for SetModTime.
	S3DataEnv = "CLEANUP_STALE_TEST_S3_DATA"
)

// S3Prefix is the prefix of the test's MEDIA_ROOT in its bucket, as
// django-storages' AWS_LOCATION: the bucket has room for keys outside it.
const S3Prefix = "site1"

// S3 is a fresh bucket on the test server, with a MEDIA_ROOT below the
// prefix S3Prefix.
type S3 struct {
	// Root is the --media-root value: s3://BUCKET/site1.
	Root   string
	Bucket string
	// Dir is the bucket's directory on the server's disk, "" when
	// S3DataEnv is not set.
	Dir string

	endpoint, key, secret string
	client                *minio.Client
}

// NewS3 creates an empty bucket with a unique name on the server of
// CLEANUP_STALE_TEST_S3_ENDPOINT, and removes it, with every object in it,
// when the test ends. Without a server the test is skipped, but under
// CI=true it fails: CI must run these tests.
func NewS3(t testing.TB) *S3 {
	t.Helper()
	endpoint := os.Getenv(S3EndpointEnv)
	if endpoint == "" {
		msg := S3EndpointEnv + " is not set: no S3 server to test against (start one with: eval \"$(.ci/s3 start /tmp/s3)\")"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		t.Fatalf("fstest: %s=%q is not an http:// URL", S3EndpointEnv, endpoint)
	}
	s := &S3{endpoint: endpoint, key: os.Getenv(S3KeyEnv), secret: os.Getenv(S3SecretEnv)}
	s.client, err = minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(s.key, s.secret, ""),
		Secure:       u.Scheme == "https",
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Bucket = "cleanup-stale-" + randomHex(6)
	s.Root = "s3://" + s.Bucket + "/" + S3Prefix
	if data := os.Getenv(S3DataEnv); data != "" {
		s.Dir = filepath.Join(data, s.Bucket)
	}
	ctx := context.Background()
	if err := s.client.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("fstest: make bucket on %s: %v", endpoint, err)
	}
	t.Cleanup(func() { s.removeBucket(t) })
	return s
}

func (s *S3) removeBucket(t testing.TB) {
	ctx := context.Background()
	objects := s.client.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Recursive: true})
	for r := range s.client.RemoveObjects(ctx, s.Bucket, objects, minio.RemoveObjectsOptions{}) {
		t.Errorf("fstest: empty bucket %s: %s: %v", s.Bucket, r.ObjectName, r.Err)
	}
	if err := s.client.RemoveBucket(ctx, s.Bucket); err != nil {
		t.Errorf("fstest: remove bucket %s: %v", s.Bucket, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Env is a getenv for fs.NewS3Fs: the AWS_* variables that reach the
// bucket's server with its credentials.
func (s *S3) Env(name string) string { return s.EnvVia(s.endpoint)(name) }

// EnvVia is Env with another endpoint, such as a Recorder's.
func (s *S3) EnvVia(endpoint string) func(string) string {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":     s.key,
		"AWS_SECRET_ACCESS_KEY": s.secret,
		"AWS_REGION":            "us-east-1",
		"AWS_ENDPOINT_URL_S3":   endpoint,
	}
	return func(name string) string { return env[name] }
}

// Write creates objects below the prefix, as Write does files.
func (s *S3) Write(t testing.TB, names ...string) {
	t.Helper()
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = S3Prefix + "/" + n
	}
	s.WriteKeys(t, keys...)
}

// Rewrite writes the object below the prefix at name again, with body: a
// new ETag unless body is what was there.
func (s *S3) Rewrite(t testing.TB, name, body string) {
	t.Helper()
	_, err := s.client.PutObject(context.Background(), s.Bucket, S3Prefix+"/"+name, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// WriteKeys creates objects with these keys, anywhere in the bucket:
// canaries outside the prefix, say. Sixteen at a time, since a test may
// need thousands.
func (s *S3) WriteKeys(t testing.TB, keys ...string) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	next := make(chan string)
	for range 16 {
		wg.Go(func() {
			for k := range next {
				body := []byte("solid " + k + "\n")
				if strings.HasSuffix(k, "/") {
					body = nil // a folder marker must be empty
				}
				_, err := s.client.PutObject(context.Background(), s.Bucket, k, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{})
				if err != nil {
					mu.Lock()
					failed = append(failed, k+": "+err.Error())
					mu.Unlock()
				}
			}
		})
	}
	for _, k := range keys {
		next <- k
	}
	close(next)
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("fstest: put %d objects, e.g. %s", len(failed), failed[0])
	}
}

// WriteDirect is Write for many objects at once: it writes the files into
// the bucket's directory on the server's disk, which the posix backend
// serves as objects, a hundred times faster than a PUT each. Without
// S3DataEnv it is Write.
func (s *S3) WriteDirect(t testing.TB, names ...string) {
	t.Helper()
	if s.Dir == "" {
		s.Write(t, names...)
		return
	}
	for _, n := range names {
		p := filepath.Join(s.Dir, S3Prefix, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("solid "+S3Prefix+"/"+n+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Keys lists every key in the bucket, sorted, so that a test can assert
// the exact survivors, inside the prefix and out.
func (s *S3) Keys(t testing.TB) []string {
	t.Helper()
	var keys []string
	for o := range s.client.ListObjectsIter(context.Background(), s.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("fstest: list bucket %s: %v", s.Bucket, o.Err)
		}
		keys = append(keys, o.Key)
	}
	slices.Sort(keys)
	return keys
}

// Files lists the keys below the prefix, relative to it and sorted, as
// Files does for an afero.Fs.
func (s *S3) Files(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, k := range s.Keys(t) {
		if rel, ok := strings.CutPrefix(k, S3Prefix+"/"); ok {
			files = append(files, rel)
		}
	}
	return files
}

// SetModTime sets the LastModified of the object name below the prefix,
// which S3 does not let a client do: it changes the file's time on the
// server's disk, which the posix backend reports. The test is skipped
// when S3DataEnv is not set.
func (s *S3) SetModTime(t testing.TB, name string, mtime time.Time) {
	t.Helper()
	if s.Dir == "" {
		t.Skip(S3DataEnv + " is not set: cannot set an object's LastModified")
	}
	p := filepath.Join(s.Dir, S3Prefix, filepath.FromSlash(name))
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// Recorder is a reverse proxy in front of the test server that records
// every request, so that a test can count them or prove that none wrote.
type Recorder struct {
	// Env is a getenv for fs.NewS3Fs that goes through the proxy.
	Env func(string) string

	mu   sync.Mutex
	reqs []Request
}

// Request is one request the proxy passed on.
type Request struct {
	Method string
	Path   string // the URL path: /BUCKET/KEY
	Query  string // the raw query: "delete=", "list-type=2&…"
	Header http.Header
	// Body is a POST's body: a DeleteObjects request's list of keys.
	Body []byte
}

// Record starts a Recorder, closed when the test ends.
func (s *S3) Record(t testing.TB) *Recorder {
	t.Helper()
	return s.proxy(t, nil)
}

// Stall starts a Recorder that stalls the requests that match: it records
// each, reads its body, and never answers it, as a server or a proxy
// that hangs does. A stalled request ends only when its client gives up
// or the test ends; the others pass as through Record.
func (s *S3) Stall(t testing.TB, match func(Request) bool) *Recorder {
	t.Helper()
	return s.proxy(t, match)
}

func (s *S3) proxy(t testing.TB, stall func(Request) bool) *Recorder {
	t.Helper()
	target, err := url.Parse(s.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	r := &Recorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	ended := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		q := Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header.Clone()}
		if req.Method == http.MethodPost {
			b, err := io.ReadAll(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			q.Body = b
			req.Body = io.NopCloser(bytes.NewReader(b))
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, q)
		r.mu.Unlock()
		if stall != nil && stall(q) {
			// Read the whole body, so that the server notices when the
			// client hangs up.
			io.Copy(io.Discard, req.Body)
			select {
			case <-req.Context().Done():
			case <-ended:
			}
			return
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(ended) }) // first: srv.Close waits for the handlers
	r.Env = s.EnvVia(srv.URL)
	return r
}

// Requests returns the requests recorded so far.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// Count counts the recorded requests with this method and raw query
// (query "*" matches any).
func (r *Recorder) Count(method, query string) int {
	n := 0
	for _, q := range r.Requests() {
		if q.Method == method && (query == "*" || q.Query == query) {
			n++
		}
	}
	return n
}

// Writes returns the recorded requests that may change something: all but
// GET, HEAD and OPTIONS.
func (r *Recorder) Writes() []Request {
	var w []Request
	for _, q := range r.Requests() {
		switch q.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			w = append(w, q)
		}
	}
	return w
}

// Reset forgets the requests recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = nil
}
