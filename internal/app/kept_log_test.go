package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestKeptLogGroups: lines of files kept for "permission denied" wait for
// the end of the run and come out once per event and errno, with the count
// and the directories; a cause met once keeps its own line; every other
// line goes out at once (EPERM, an I/O error, a file outside MEDIA_ROOT);
// S3 (no errnos) is left alone.
func TestKeptLogGroups(t *testing.T) {
	media := t.TempDir()
	for _, d := range []string{"stl/a", "stl/b"} {
		if err := os.MkdirAll(filepath.Join(media, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var out syncBuffer
	log, kept := newRunLogger(&out, media)
	denied := func(p string) error {
		return &os.PathError{Op: "remove", Path: p, Err: syscall.EACCES}
	}
	log.Error("cannot remove file; row kept", "slug", "s1", "path", "stl/a/1.stl", "error", denied("stl/a/1.stl").Error())
	log.Error("cannot remove file; row kept", "slug", "s2", "path", "stl/a/2.stl", "error", denied("stl/a/2.stl").Error())
	log.Error("cannot remove file; row kept", "slug", "s3", "path", "stl/b/3.stl", "error", denied("stl/b/3.stl"))
	log.Warn("a real run would keep this row", "slug", "s4", "path", "stl/b/4.stl", "error", denied("stl/b/4.stl"))
	log.Error("cannot remove file; row kept", "slug", "s5", "path", "stl/b/5.stl", "error", errors.New("remove stl/b/5.stl: input/output error"))
	log.Error("cannot remove file; row kept", "slug", "s6", "path", "stl/b/6.stl",
		"error", &os.PathError{Op: "remove", Path: "stl/b/6.stl", Err: syscall.EPERM})
	log.Info("files wait", "path", "stl/a/7.stl", "error", denied("stl/a/7.stl"))
	log.Warn("cannot write the health state file", "path", filepath.Join(media, "x"), "error", denied("x"))
	before := out.String()
	if n := strings.Count(before, "\n"); n != 4 || !strings.Contains(before, "slug=s5") || !strings.Contains(before, "slug=s6") ||
		!strings.Contains(before, "msg=\"files wait\"") || !strings.Contains(before, "health state file") {
		t.Fatalf("before the end of the run:\n%s\nwant the four lines that are not about files under MEDIA_ROOT denied", before)
	}
	kept.flush(context.Background())
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(out.String(), before)), "\n")
	if len(lines) != 2 {
		t.Fatalf("at the end of the run:\n%s\nwant 2 lines", strings.Join(lines, "\n"))
	}
	euid := strconv.Itoa(os.Geteuid())
	if l := lines[0]; !strings.Contains(l, "level=ERROR msg=\"uid "+euid+" may not remove files in 2 directories under MEDIA_ROOT: stl/a (uid "+euid+", mode 0755), stl/b (") ||
		!strings.Contains(l, "event=\"cannot remove file; row kept\" count=3 error=\"permission denied\"") {
		t.Errorf("the group: %s", l)
	}
	if l := lines[1]; !strings.Contains(l, "level=WARN msg=\"a real run would keep this row\" slug=s4") {
		t.Errorf("a cause met once keeps its line: %s", l)
	}
	kept.flush(context.Background())
	if strings.Count(out.String(), "\n") != 6 {
		t.Errorf("a second flush said more: %s", out.String())
	}

	var s3 syncBuffer
	log, kept = newRunLogger(&s3, "")
	log.Error("cannot remove file; row kept", "slug", "s1", "path", "stl/a/1.stl", "error", denied("stl/a/1.stl"))
	if !strings.Contains(s3.String(), "slug=s1") {
		t.Errorf("S3: held back %q", s3.String())
	}
	kept.flush(context.Background())
}
