package fs_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/s3test"
)

// stalledDeletes stalls every DeleteObjects request (POST ?delete), as a
// proxy in front of S3 that hangs on it did.
func stalledDeletes(r s3test.Request) bool {
	return r.Method == http.MethodPost && r.Query == "delete="
}

// removeWithin runs RemoveMany in the background and returns its errors,
// or fails the test if it has not returned after bound. bound is no
// measure of speed: the server never answers, so RemoveMany returns only
// through its timeout or its context, and bound is far beyond either.
func removeWithin(t *testing.T, fsys *fs.S3Fs, names []string, bound time.Duration) []error {
	t.Helper()
	done := make(chan []error, 1)
	go func() { done <- removeNow(fsys, names...) }()
	select {
	case errs := <-done:
		return errs
	case <-time.After(bound):
		t.Fatalf("RemoveMany is still waiting for a server that never answers after %s", bound)
		return nil
	}
}

// TestS3StalledRequestsTimeOut: a request that gets no answer fails after
// its timeout, and is tried a bounded number of times, not ten times a
// minute as minio-go's defaults would; every name gets an error, and
// nothing is removed.
func TestS3StalledRequestsTimeOut(t *testing.T) {
	s := s3test.NewS3(t)
	stall := s.Stall(t, stalledDeletes)
	defer fs.SetS3RequestTimeout(200 * time.Millisecond)()
	fsys := newS3Fs(t, s, stall.Env)
	names := []string{"stl/a.stl", "stl/b.stl"}
	s.Write(t, names...)

	errs := removeWithin(t, fsys, names, time.Minute)
	for i, err := range errs {
		if err == nil {
			t.Errorf("%s: removed through a server that never answered", names[i])
		}
	}
	if n := stall.Count(http.MethodPost, "delete="); n != fs.S3Attempts {
		t.Errorf("the request was tried %d times, want %d", n, fs.S3Attempts)
	}
	if got := s.Files(t); !slices.Equal(got, names) {
		t.Errorf("files left = %q, want %q", got, names)
	}
}

// TestS3RequestsHonourTheContext: cancelling the file system's context
// ends a request in flight at once, even one whose timeout is far away,
// and it is not tried again.
func TestS3RequestsHonourTheContext(t *testing.T) {
	s := s3test.NewS3(t)
	stall := s.Stall(t, stalledDeletes)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fsys, err := fs.NewS3Fs(ctx, s.Root, stall.Env) // the default timeout: 30 s a request
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	names := []string{"stl/a.stl"}
	s.Write(t, names...)

	go func() {
		for stall.Count(http.MethodPost, "delete=") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	errs := removeWithin(t, fsys, names, 20*time.Second) // less than one request's timeout
	if !errors.Is(errs[0], context.Canceled) {
		t.Errorf("RemoveMany after cancel: %v, want context.Canceled", errs[0])
	}
	if n := stall.Count(http.MethodPost, "delete="); n != 1 {
		t.Errorf("the request was tried %d times after its context ended, want once", n)
	}
	if got := s.Files(t); !slices.Equal(got, names) {
		t.Errorf("files left = %q, want %q", got, names)
	}
}
