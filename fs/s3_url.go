package fs

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// IsS3 tells whether root, a --media-root value, names an S3 bucket
// (s3://BUCKET[/PREFIX]) rather than a directory, so that the caller opens
// it with NewS3Fs instead of NewRootFs.
func IsS3(root string) bool {
	return len(root) >= len("s3://") && strings.EqualFold(root[:len("s3://")], "s3://")
}

// parseS3Root splits s3://BUCKET[/PREFIX] into the bucket and the prefix,
// django-storages' AWS_LOCATION. The prefix comes back with a trailing
// slash ("site1/"), or empty, so that a key is prefix+name and no name can
// make it a sibling ("site10/..."). The URL is taken literally: no percent
// decoding, since the prefix is a key prefix, not a URL path.
func parseS3Root(root string) (bucket, prefix string, err error) {
	if !IsS3(root) {
		return "", "", errors.New("not an s3:// URL")
	}
	bucket, prefix, _ = strings.Cut(root[len("s3://"):], "/")
	if err := s3utils.CheckValidBucketName(bucket); err != nil {
		return "", "", fmt.Errorf("bucket name %q: %v", bucket, err)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return bucket, "", nil
	}
	// The prefix must be a plain path, so that "a/../b" or "a//b" cannot
	// mean one place here and another to the web app.
	if clean, err := CleanPath(prefix); err != nil || clean != prefix {
		return "", "", fmt.Errorf("prefix %q is not a plain relative path", prefix)
	}
	return bucket, prefix + "/", nil
}

// s3Config is what minio-go needs to reach the bucket, read from the
// standard AWS_* variables.
type s3Config struct {
	endpoint string // host[:port]
	secure   bool
	lookup   minio.BucketLookupType
	region   string
	creds    *credentials.Credentials
	secrets  []string // never to appear in an error message
}

// awsEndpoint is where S3 is when no endpoint variable names another
// server.
const awsEndpoint = "s3.amazonaws.com"

// s3ConfigFrom reads the AWS_* variables through getenv. A custom endpoint
// (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL) is an S3-compatible server,
// addressed path-style (http://host/bucket/key), since such servers seldom
// have a DNS name per bucket.
func s3ConfigFrom(getenv func(string) string) (s3Config, error) {
	key, secret, token := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN")
	cfg := s3Config{
		endpoint: awsEndpoint,
		secure:   true,
		lookup:   minio.BucketLookupAuto,
		region:   getenv("AWS_REGION"),
		secrets:  []string{secret, token},
	}
	if cfg.region == "" {
		cfg.region = getenv("AWS_DEFAULT_REGION")
	}
	if key == "" || secret == "" {
		return cfg, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set")
	}
	cfg.creds = credentials.NewStaticV4(key, secret, token)
	name := "AWS_ENDPOINT_URL_S3"
	raw := getenv(name)
	if raw == "" {
		name = "AWS_ENDPOINT_URL"
		raw = getenv(name)
	}
	if raw == "" {
		return cfg, nil
	}
	// url.Parse's own errors quote the URL, which may hold a password:
	// say only which variable is wrong.
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return cfg, fmt.Errorf("%s is not a URL", name)
	case u.Scheme != "http" && u.Scheme != "https":
		return cfg, fmt.Errorf("%s must start with http:// or https://", name)
	case u.User != nil:
		return cfg, fmt.Errorf("%s must not hold credentials; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", name)
	case u.Host == "":
		return cfg, fmt.Errorf("%s has no host", name)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		return cfg, fmt.Errorf("%s must be scheme://host[:port] only", name)
	}
	cfg.endpoint, cfg.secure, cfg.lookup = u.Host, u.Scheme == "https", minio.BucketLookupPath
	return cfg, nil
}

// endpointURL is the server, for messages.
func (c s3Config) endpointURL() string {
	if c.secure {
		return "https://" + c.endpoint
	}
	return "http://" + c.endpoint
}

// redact removes every secret from msg: an error from a library or a
// server may quote more than it should, and the message ends up in logs.
func (c s3Config) redact(msg string) string {
	for _, s := range c.secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}
