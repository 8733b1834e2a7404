package fs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// s3RequestTimeout bounds each HTTP request to S3, from sending it to the
// last byte of its answer (docs/beyond-one-host.md): a
// server, or a proxy in front of it, that stops answering fails the
// request instead of holding the run. A DeleteObjects of 1000 keys or a
// listing page takes well under a second on a healthy server. A variable,
// so that tests can shorten it.
var s3RequestTimeout = 30 * time.Second

// s3Attempts is how many times minio-go sends a request that failed or
// timed out, as the AWS SDKs' standard retry mode does. minio-go's own
// default, ten, kept a run waiting ten minutes on a stalled server.
const s3Attempts = 3

// deadlineTransport gives every request that passes through it timeout
// to complete, body included. minio-go retries a request that timed out
// (up to s3Attempts in all), unless the file system's own context has
// ended: then the request is abandoned at once.
type deadlineTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (t deadlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeoutCause(req.Context(), t.timeout,
		fmt.Errorf("no answer from the S3 server within %s", t.timeout))
	res, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	res.Body = cancelOnClose{res.Body, cancel}
	return res, nil
}

// cancelOnClose releases a request's timer once its answer is read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
