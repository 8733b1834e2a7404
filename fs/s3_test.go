package fs_test

import (
	"context"
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/fs/fstest"
	"github.com/cleanup-stale/cleanup-stale/internal/s3test"
)

// newS3Fs opens the test bucket's MEDIA_ROOT through getenv (the server's,
// or a Recorder's).
func newS3Fs(t testing.TB, s *s3test.S3, getenv func(string) string) *fs.S3Fs {
	t.Helper()
	fsys, err := fs.NewS3Fs(context.Background(), s.Root, getenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsys
}

// canaries are keys outside the test's prefix: in the bucket's root, in a
// sibling prefix, and in one whose name starts like the prefix.
var canaries = []string{"outside.stl", "site2/stl/x.stl", "site10/stl/x.stl", "site1.stl"}

func TestS3Remove(t *testing.T) {
	s := s3test.NewS3(t)
	fsys := newS3Fs(t, s, s.Env)
	s.WriteKeys(t, canaries...)
	s.Write(t, "stl/2026/11/a.stl", "stl/2026/11/b.stl", "stl/full/inner.stl")
	for _, tc := range []struct {
		name    string
		wantErr bool
	}{
		{"stl/2026/11/a.stl", false},
		{"stl/2026/11/a.stl", false}, // already gone: still fine
		{"stl/never/there.stl", false},
		{"stl/full", false}, // a prefix: no object at the key, and nothing below goes
		{"../outside.stl", true},
		{"/etc/hostname", true},
		{"", true},
	} {
		err := removeNow(fsys, tc.name)[0]
		if (err != nil) != tc.wantErr {
			t.Errorf("Remove(%q) = %v, want error: %v", tc.name, err, tc.wantErr)
		}
	}
	if err := removeNow(fsys, "stl/2026/../2026/11/b.stl")[0]; err != nil {
		t.Errorf("Remove of a non-canonical inside path: %v", err)
	}
	if err := fsys.Remove("stl/never/there.stl"); err != nil {
		t.Errorf("S3Fs.Remove of a missing key: %v", err)
	}
	want := append(slices.Clone(canaries), "site1/stl/full/inner.stl")
	slices.Sort(want)
	if got := s.Keys(t); !slices.Equal(got, want) {
		t.Errorf("keys left = %q, want %q", got, want)
	}
}

// TestS3Confinement: no name reaches a key outside the prefix, whichever
// way in (invariant 3 in docs/design.md, on S3).
func TestS3Confinement(t *testing.T) {
	s := s3test.NewS3(t)
	fsys := newS3Fs(t, s, s.Env)
	s.WriteKeys(t, canaries...)
	s.Write(t, "stl/a.stl")
	before := s.Keys(t)
	for _, name := range []string{
		"../outside.stl",
		"../site2/stl/x.stl",
		"stl/../../site2/stl/x.stl",
		"stl/../../site10/stl/x.stl",
		"../site1.stl",
		"/site1/stl/a.stl",
		"/etc/x",
		"//outside.stl",
		"stl/a.stl\x00",
		"",
		".",
		"..",
	} {
		if err := removeNow(fsys, name)[0]; !errors.Is(err, fs.ErrUnsafePath) {
			t.Errorf("removeNow(%q) = %v, want ErrUnsafePath", name, err)
		}
		if err := fs.Check(fsys, name); !errors.Is(err, fs.ErrUnsafePath) {
			t.Errorf("fs.Check(%q) = %v, want ErrUnsafePath", name, err)
		}
		if err := fsys.Remove(name); !errors.Is(err, fs.ErrUnsafePath) {
			t.Errorf("S3Fs.Remove(%q) = %v, want ErrUnsafePath", name, err)
		}
		if errs := removeNow(fsys, name); !errors.Is(errs[0], fs.ErrUnsafePath) {
			t.Errorf("RemoveTargets(%q) = %v, want ErrUnsafePath", name, errs[0])
		}
		if errs := fs.DeleteKeys(fsys, []string{name}); !errors.Is(errs[0], fs.ErrUnsafePath) {
			t.Errorf("deleteKeys(%q) = %v, want ErrUnsafePath", name, errs[0])
		}
		if name != "." { // "." is the prefix itself: a directory
			if _, err := fsys.Stat(name); !errors.Is(err, fs.ErrUnsafePath) {
				t.Errorf("Stat(%q) = %v, want ErrUnsafePath", name, err)
			}
			if _, err := fsys.Open(name); !errors.Is(err, fs.ErrUnsafePath) {
				t.Errorf("Open(%q) = %v, want ErrUnsafePath", name, err)
			}
		}
	}
	if got := s.Keys(t); !slices.Equal(got, before) {
		t.Errorf("keys = %q, want them untouched: %q", got, before)
	}
	// Listing the whole MEDIA_ROOT shows only what is below the prefix.
	if got := fstest.Files(t, fsys); !slices.Equal(got, []string{"stl/a.stl"}) {
		t.Errorf("files listed = %q, want [stl/a.stl]", got)
	}
}

// TestS3Names: names that a shell, a URL or XML would mangle are keys
// like any other.
func TestS3Names(t *testing.T) {
	s := s3test.NewS3(t)
	fsys := newS3Fs(t, s, s.Env)
	s.WriteKeys(t, canaries...)
	names := []string{
		"stl/a b.stl",
		`stl/it's "quoted".stl`,
		"stl/Müller Straße ÄÖÜ.stl",
		"stl/-rf.stl",
		"-stl/--help.stl",
		"stl/100% & more + less ? #1 =.stl",
		"stl/日本語.stl",
	}
	s.Write(t, names...)
	for _, n := range names {
		fi, err := fsys.Stat(n)
		if err != nil || fi.IsDir() || fi.Size() == 0 {
			t.Errorf("Stat(%q) = %v, %v", n, fi, err)
		}
		if err := fs.Check(fsys, n); err != nil {
			t.Errorf("Check(%q): %v", n, err)
		}
	}
	if got, want := fstest.Files(t, fsys), sorted(names); !slices.Equal(got, want) {
		t.Errorf("listed %q, want %q", got, want)
	}
	for _, n := range names[:3] {
		if err := removeNow(fsys, n)[0]; err != nil {
			t.Errorf("Remove(%q): %v", n, err)
		}
	}
	for i, err := range removeNow(fsys, names[3:]...) {
		if err != nil {
			t.Errorf("RemoveMany: %q: %v", names[3+i], err)
		}
	}
	if got := s.Keys(t); !slices.Equal(got, sorted(canaries)) {
		t.Errorf("keys left = %q, want only the canaries", got)
	}
}

func TestS3StatModTime(t *testing.T) {
	s := s3test.NewS3(t)
	fsys := newS3Fs(t, s, s.Env)
	s.Write(t, "stl/2026/new.stl", "stl/2026/old.stl")
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	s.SetModTime(t, "stl/2026/old.stl", old)

	if fi, err := fsys.Stat("stl/2026/old.stl"); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("Stat(old) = %v, %v; want modified %v", fi, err, old)
	}
	if fi, err := fsys.Stat("stl/2026/new.stl"); err != nil || time.Since(fi.ModTime()).Abs() > time.Minute {
		t.Errorf("Stat(new) = %v, %v; want modified about now", fi, err)
	}
	if _, err := fsys.Stat("stl/2026/missing.stl"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Stat(missing) = %v, want ErrNotExist", err)
	}
	fi, err := fsys.Stat("stl/2026/new.stl")
	if err != nil || fi.IsDir() || !fi.Mode().IsRegular() || fi.Name() != "new.stl" || fi.Size() != int64(len("solid site1/stl/2026/new.stl\n")) {
		t.Errorf("Stat(file) = %+v, %v", fi, err)
	}
	for _, dir := range []string{"stl", "stl/2026", "stl/2026/", ".", "./stl"} {
		if fi, err := fsys.Stat(dir); err != nil || !fi.IsDir() {
			t.Errorf("Stat(%q) = %v, %v; want a directory", dir, fi, err)
		}
	}
	for _, missing := range []string{"stl/2026/missing.stl", "stl/20", "stx"} {
		if _, err := fsys.Stat(missing); !errors.Is(err, iofs.ErrNotExist) {
			t.Errorf("Stat(%q) = %v, want ErrNotExist", missing, err)
		}
		if err := fs.Check(fsys, missing); err != nil {
			t.Errorf("Check(%q) = %v, want nil for a missing file", missing, err)
		}
	}
	// Check sends no request on S3, so that checking a batch of thousands
	// of keys costs nothing: a name that is only a prefix passes, and
	// removing it removes nothing below it (TestS3RemoveMany).
	if err := fs.Check(fsys, "stl/2026"); err != nil {
		t.Errorf("Check(a prefix) = %v, want nil", err)
	}
}

// TestS3Readdir: a directory is listed one level at a time, across more
// keys than one listing request returns, in chunks as walkFiles reads it.
func TestS3Readdir(t *testing.T) {
	s := s3test.NewS3(t)
	rec := s.Record(t)
	fsys := newS3Fs(t, s, rec.Env)
	const page = 7
	fs.SetS3PageSize(fsys, page)
	var want []string
	for i := range 25 {
		name := "f" + string(rune('a'+i)) + ".stl"
		want = append(want, name)
		s.Write(t, "stl/"+name)
	}
	s.Write(t, "stl/sub1/x.stl", "stl/sub2/deeper/y.stl", "stl/sub3/z.stl", "top.stl")
	s.WriteKeys(t, s3test.S3Prefix+"/stl/") // a console's folder marker: not an entry
	want = append(want, "sub1/", "sub2/", "sub3/")
	s.SetModTime(t, "stl/fa.stl", time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC))

	rec.Reset()
	f, err := fsys.Open("stl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	for {
		fis, err := f.Readdir(4)
		if errors.Is(err, io.EOF) {
			if len(fis) != 0 {
				t.Errorf("Readdir returned %d entries with io.EOF", len(fis))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(fis) == 0 || len(fis) > 4 {
			t.Fatalf("Readdir(4) returned %d entries", len(fis))
		}
		for _, fi := range fis {
			switch {
			case fi.IsDir():
				got = append(got, fi.Name()+"/")
			case !fi.Mode().IsRegular() || fi.ModTime().IsZero():
				t.Errorf("%s: mode %v, modtime %v", fi.Name(), fi.Mode(), fi.ModTime())
				fallthrough
			default:
				got = append(got, fi.Name())
			}
			if fi.Name() == "fa.stl" && !fi.ModTime().Equal(time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC)) {
				t.Errorf("fa.stl: ModTime %v, want its LastModified", fi.ModTime())
			}
		}
	}
	if fis, err := f.Readdir(4); len(fis) != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("Readdir after the end = %d entries, %v; want io.EOF", len(fis), err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("listed %q, want %q", got, want)
	}
	// Open: a HEAD (no object "stl") and a one-key listing (a directory).
	// Then 26 keys and 3 prefixes, 7 a page: 5 listing requests, however
	// Readdir's chunks fall.
	if heads, gets := rec.Count("HEAD", "*"), rec.Count("GET", "*"); heads != 1 || gets != 1+5 {
		t.Errorf("Open and Readdir sent %d HEAD and %d GET requests, want 1 and 6", heads, gets)
	}
	t.Logf("requests for Open and Readdir of %d entries, %d a page: %d", len(want)+1, page, len(rec.Requests()))

	// The whole tree, as afero walks it (Readdirnames(-1) per directory).
	all := fstest.Files(t, fsys)
	if wantAll := s.Files(t); !slices.Equal(all, slices.DeleteFunc(wantAll, func(k string) bool { return strings.HasSuffix(k, "/") })) {
		t.Errorf("walked %q, want %q", all, wantAll)
	}
}

func TestS3Open(t *testing.T) {
	s := s3test.NewS3(t)
	fsys := newS3Fs(t, s, s.Env)
	s.Write(t, "stl/a.stl")
	f, err := fsys.Open("stl/a.stl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "solid site1/stl/a.stl\n" {
		t.Errorf("read %q, %v", b, err)
	}
	if _, err := f.Readdir(1); err == nil {
		t.Error("Readdir of an object succeeded")
	}
	if _, err := fsys.Open("stl/missing.stl"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want ErrNotExist", err)
	}
	for name, err := range map[string]error{
		"Create":    func() error { _, err := fsys.Create("stl/new.stl"); return err }(),
		"OpenFile":  func() error { _, err := fsys.OpenFile("stl/a.stl", os.O_WRONLY, 0); return err }(),
		"Mkdir":     fsys.MkdirAll("stl/d", 0o755),
		"Rename":    fsys.Rename("stl/a.stl", "stl/b.stl"),
		"RemoveAll": fsys.RemoveAll("stl"),
		"Chtimes":   fsys.Chtimes("stl/a.stl", time.Now(), time.Now()),
	} {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s = %v, want ErrUnsupported", name, err)
		}
	}
	if got := s.Files(t); !slices.Equal(got, []string{"stl/a.stl"}) {
		t.Errorf("files = %q", got)
	}
}

// TestS3RemoveMany: many keys go in a few DeleteObjects requests, 1000
// keys each, and each name gets its own result.
func TestS3RemoveMany(t *testing.T) {
	s := s3test.NewS3(t)
	rec := s.Record(t)
	fsys := newS3Fs(t, s, rec.Env)
	s.WriteKeys(t, canaries...)
	var names []string
	for i := range 2500 {
		names = append(names, "stl/2026/11/"+strings.Repeat("x", i%7)+"-"+strconv.Itoa(i)+".stl")
	}
	s.WriteDirect(t, names...)
	s.Write(t, "stl/keep.stl")
	names = append(names, "stl/missing.stl", "../outside.stl", "stl/2026/11/-0.stl") // missing, unsafe, duplicate

	rec.Reset()
	start := time.Now()
	errs := removeNow(fsys, names...)
	took := time.Since(start)
	for i, err := range errs {
		wantUnsafe := names[i] == "../outside.stl"
		if wantUnsafe != errors.Is(err, fs.ErrUnsafePath) || !wantUnsafe && err != nil {
			t.Errorf("RemoveMany: %q: %v", names[i], err)
		}
	}
	deletes, heads, all := rec.Count("POST", "delete="), rec.Count("HEAD", "*"), len(rec.Requests())
	t.Logf("RemoveMany of %d names: %d requests, %d of them DeleteObjects, in %v", len(names), all, deletes, took)
	// Each key is asked twice (once by Inspect, which notes its ETag, once
	// just before its removal); the removals go in DeleteObjects requests
	// of 1000 keys, none of them one by one.
	if deletes != 3 || heads != 2*2502 || all != deletes+heads {
		t.Errorf("RemoveMany of 2501 keys sent %d requests, %d DeleteObjects, %d HEAD; want 3 DeleteObjects, 5004 HEAD and nothing else", all, deletes, heads)
	}
	// S3 requires Content-MD5 on DeleteObjects, and so do some
	// S3-compatible servers: minio-go sends it.
	for _, r := range rec.Requests() {
		if r.Method == "POST" && r.Header.Get("Content-MD5") == "" {
			t.Errorf("%s %s?%s without Content-MD5", r.Method, r.Path, r.Query)
		}
	}
	want := sorted(append(slices.Clone(canaries), "site1/stl/keep.stl"))
	if got := s.Keys(t); !slices.Equal(got, want) {
		t.Errorf("keys left = %q…, want %q", got[:min(len(got), 10)], want)
	}

	rec.Reset()
	if err := removeNow(fsys, "stl/keep.stl")[0]; err != nil {
		t.Fatal(err)
	}
	if heads, deletes, all := rec.Count("HEAD", "*"), rec.Count("POST", "delete="), len(rec.Requests()); heads != 2 || deletes != 1 || all != 3 {
		t.Errorf("removing one file sent %d requests (%d HEAD, %d DeleteObjects), want two HEAD and a DeleteObjects", all, heads, deletes)
	}
	want = sorted(canaries)
	if got := s.Keys(t); !slices.Equal(got, want) {
		t.Errorf("keys left = %q…, want %q", got[:min(len(got), 10)], want)
	}
}

// TestS3ReadOnly: through ReadOnly, a dry run sends no request that could
// change anything, while it checks, dates and lists as a real run does
// (invariant 7 in docs/design.md, on S3).
func TestS3ReadOnly(t *testing.T) {
	s := s3test.NewS3(t)
	rec := s.Record(t)
	under := newS3Fs(t, s, rec.Env)
	ro := fs.ReadOnly(under)
	s.WriteKeys(t, canaries...)
	s.Write(t, "stl/a.stl", "stl/b.stl", "stl/sub/c.stl")
	before := s.Keys(t)

	rec.Reset()
	for _, n := range []string{"stl/a.stl", "stl/missing.stl"} {
		if err := fs.Check(ro, n); err != nil {
			t.Errorf("Check(%q): %v", n, err)
		}
	}
	if _, err := ro.Stat("stl/a.stl"); err != nil {
		t.Errorf("Stat: %v", err)
	}
	if fi, err := ro.Stat("stl"); err != nil || !fi.IsDir() {
		t.Errorf("Stat(stl) = %v, %v", fi, err)
	}
	if got := fstest.Files(t, ro); !slices.Equal(got, []string{"stl/a.stl", "stl/b.stl", "stl/sub/c.stl"}) {
		t.Errorf("listed %q", got)
	}
	if err := removeNow(ro, "stl/a.stl")[0]; err == nil {
		t.Error("Remove through ReadOnly succeeded")
	}
	errs := removeNow(ro, "stl/a.stl", "stl/b.stl", "stl/missing.stl")
	if errs[0] == nil || errs[1] == nil || errs[2] != nil {
		t.Errorf("RemoveMany through ReadOnly = %v; want errors for the two files, nil for the missing one", errs)
	}
	for name, err := range map[string]error{
		"Remove":    ro.Remove("stl/a.stl"),
		"RemoveAll": ro.RemoveAll("stl"),
		"Create":    func() error { _, err := ro.Create("stl/new.stl"); return err }(),
		"OpenFile":  func() error { _, err := ro.OpenFile("stl/a.stl", os.O_RDWR, 0); return err }(),
		"Rename":    ro.Rename("stl/a.stl", "stl/z.stl"),
		"Chtimes":   ro.Chtimes("stl/a.stl", time.Now(), time.Now()),
	} {
		if err == nil {
			t.Errorf("%s through ReadOnly succeeded", name)
		}
	}
	if w := rec.Writes(); len(w) != 0 {
		t.Errorf("requests that may write, through ReadOnly: %+v", w)
	}
	if len(rec.Requests()) == 0 {
		t.Error("no request recorded at all: is the recorder in the way?")
	}
	if got := s.Keys(t); !slices.Equal(got, before) {
		t.Errorf("keys = %q, want %q", got, before)
	}
}

// TestNewS3FsBucket: a bucket that does not exist, or credentials the
// server refuses, fail at once with ErrNoMediaRoot, and never show the
// secret.
func TestNewS3FsBucket(t *testing.T) {
	s := s3test.NewS3(t)
	secret := s.Env("AWS_SECRET_ACCESS_KEY")
	wrongSecret := func(name string) string {
		if name == "AWS_SECRET_ACCESS_KEY" {
			return "wrong-" + secret
		}
		return s.Env(name)
	}
	for _, tc := range []struct {
		root   string
		getenv func(string) string
		secret string
		want   string // in the message
	}{
		{"s3://no-such-bucket-" + s.Bucket[len(s.Bucket)-12:] + "/site1", s.Env, secret, "does not exist"},
		{s.Root, wrongSecret, "wrong-" + secret, s.Root},
	} {
		_, err := fs.NewS3Fs(context.Background(), tc.root, tc.getenv)
		checkNoMediaRoot(t, tc.root, err, tc.secret, tc.want)
	}
	if _, err := fs.NewS3Fs(context.Background(), "s3://"+s.Bucket, s.Env); err != nil {
		t.Errorf("NewS3Fs with no prefix: %v", err)
	}
}

// TestNewS3FsInvalid: a root or an environment that cannot work is
// ErrNoMediaRoot, in one line without the secret. No server is needed.
func TestNewS3FsInvalid(t *testing.T) {
	const secret = "S3cr3t/Key+Never+Shown"
	env := func(over ...string) func(string) string {
		m := map[string]string{
			"AWS_ACCESS_KEY_ID":     "AKIDEXAMPLE",
			"AWS_SECRET_ACCESS_KEY": secret,
			"AWS_REGION":            "us-east-1",
			"AWS_ENDPOINT_URL_S3":   "http://127.0.0.1:1", // nothing listens on port 1
		}
		for i := 0; i+1 < len(over); i += 2 {
			m[over[i]] = over[i+1]
		}
		return func(name string) string { return m[name] }
	}
	for _, tc := range []struct {
		root   string
		getenv func(string) string
		want   string
	}{
		{"s3://", env(), "bucket name"},
		{"s3:///site1", env(), "bucket name"},
		{"s3://Bad_Bucket!/x", env(), "bucket name"},
		{"s3://bucket/a/../b", env(), "prefix"},
		{"s3://bucket/a//b", env(), "prefix"},
		{"s3://bucket/site1", env("AWS_ACCESS_KEY_ID", ""), "AWS_ACCESS_KEY_ID"},
		{"s3://bucket/site1", env("AWS_SECRET_ACCESS_KEY", ""), "AWS_SECRET_ACCESS_KEY"},
		{"s3://bucket/site1", env("AWS_ENDPOINT_URL_S3", "ftp://127.0.0.1"), "http://"},
		{"s3://bucket/site1", env("AWS_ENDPOINT_URL_S3", "http://user:"+strings.ReplaceAll(secret, "/", "%2F")+"@127.0.0.1:1"), "credentials"},
		{"s3://bucket/site1", env("AWS_ENDPOINT_URL_S3", "http://user:"+secret+"@127.0.0.1:1"), "AWS_ENDPOINT_URL_S3"},
		{"s3://bucket/site1", env("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1/path"), "host"},
		{"s3://bucket/site1", env("AWS_ENDPOINT_URL_S3", "http://%zz"), "not a URL"},
		{"s3://bucket/site1", env("AWS_ENDPOINT_URL_S3", "", "AWS_ENDPOINT_URL", "ftp://x"), "AWS_ENDPOINT_URL "},
		{"s3://bucket/site1", env(), "127.0.0.1:1"}, // unreachable
	} {
		_, err := fs.NewS3Fs(context.Background(), tc.root, tc.getenv)
		checkNoMediaRoot(t, tc.root, err, secret, tc.want)
	}
}

func checkNoMediaRoot(t *testing.T, root string, err error, secret, want string) {
	t.Helper()
	switch {
	case !errors.Is(err, fs.ErrNoMediaRoot):
		t.Errorf("NewS3Fs(%q) = %v, want ErrNoMediaRoot", root, err)
	case strings.Contains(err.Error(), secret):
		t.Errorf("NewS3Fs(%q): the message shows the secret: %v", root, err)
	case strings.Contains(err.Error(), "\n"):
		t.Errorf("NewS3Fs(%q): the message is not one line: %q", root, err)
	case !strings.Contains(err.Error(), want):
		t.Errorf("NewS3Fs(%q) = %v, want it to say %q", root, err, want)
	default:
		t.Logf("NewS3Fs(%q): %v", root, err)
	}
}

func TestIsS3(t *testing.T) {
	for root, want := range map[string]bool{
		"s3://bucket":        true,
		"S3://bucket/prefix": true,
		"/srv/media":         false,
		"media":              false,
		"s3:/bucket":         false,
		"./s3://x":           false,
	} {
		if got := fs.IsS3(root); got != want {
			t.Errorf("IsS3(%q) = %v, want %v", root, got, want)
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
