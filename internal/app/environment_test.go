package app

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/fs"
)

// TestEnvironmentIsWhatTheCodeReads: Environment lists exactly the
// variables that the code reads, those of the flags and those it reads
// with Getenv (the S3 client's through the getenv it is given, some by a
// name chosen at run time), so that
// the man page, the packaged env file and the docs, which list them from
// Environment, name every one.
func TestEnvironmentIsWhatTheCodeReads(t *testing.T) {
	getenv := regexp.MustCompile(`\b[gG]etenv\("([A-Z][A-Z0-9_]*)"\)`)
	read := map[string]bool{}
	for _, dir := range []string{"cleanup", "fs", "store", filepath.Join("internal", "app"), filepath.Join("internal", "trust"), "."} {
		files, err := filepath.Glob(filepath.Join(repo, dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range getenv.FindAllSubmatch(b, -1) {
				read[string(m[1])] = true
			}
		}
	}
	// The S3 client reads some of its variables by a name it chose at run
	// time: ask it, with a getenv that notes every name, and a context
	// that is over before any request.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fs.NewS3Fs(ctx, "s3://bucket/prefix", func(name string) string {
		read[name] = true
		if name == "AWS_ACCESS_KEY_ID" || name == "AWS_SECRET_ACCESS_KEY" {
			return "x" // without credentials it reads no further
		}
		return ""
	})
	if !read["AWS_ENDPOINT_URL_S3"] || !read["STATE_DIRECTORY"] || !read["NO_COLOR"] {
		t.Fatalf("the scan found too little: %v", read)
	}
	listed := map[string]bool{}
	for _, v := range Environment() {
		if listed[v.Name] {
			t.Errorf("$%s listed twice", v.Name)
		}
		listed[v.Name] = true
		if v.Flag == "" && !read[v.Name] {
			t.Errorf("$%s is listed, but no code reads it", v.Name)
		}
		if v.Flag == "" && v.Use == "" || v.Flag != "" && !strings.HasPrefix(strings.TrimLeft(v.Flag, "abcdefghijklmnopqrstuvwxyz "), "--") {
			t.Errorf("%+v: a variable has a flag, or says what it is for", v)
		}
	}
	for name := range read {
		if !listed[name] {
			t.Errorf("the code reads $%s, which Environment does not list", name)
		}
	}
	for _, want := range []string{"CLEANUP_STALE_DB", "MEDIA_ROOT", "CLEANUP_STALE_MAX_AGE", "CLEANUP_STALE_UPLOAD_DIR"} {
		if !listed[want] {
			t.Errorf("no $%s among the flags' variables: %v", want, slices.Collect(func(yield func(string) bool) {
				for n := range listed {
					if !yield(n) {
						return
					}
				}
			}))
		}
	}
}
