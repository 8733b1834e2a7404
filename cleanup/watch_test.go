//go:build linux

package cleanup_test

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"

	"github.com/cleanup-stale/cleanup-stale/fs"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestRemovalsKeepTheWalk: the directory that a run removed a file from,
// watched while it did, is noted in the kept walk with the change time
// that the removal left, so that the next run does not read it again;
// the directory it did not touch keeps the change time it had.
func TestRemovalsKeepTheWalk(t *testing.T) {
	t.Parallel()
	media := filepath.Join(t.TempDir(), "media")
	for _, f := range []string{"stl/2026/11/stale.stl", "stl/2026/11/live.stl", "stl/2026/10/other.stl"} {
		p := filepath.Join(media, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("solid\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !fs.Watchable(media) {
		t.Skipf("%s is on a file system whose directories are not watched", media)
	}
	// A month of a big install: a watch pays only for a directory whose
	// reading again would cost more than the watch (fs.Aliaser.Watch).
	want := []string{"stl/2026/10/other.stl", "stl/2026/11/live.stl"}
	for i := range 30000 {
		f := "stl/2026/11/u" + strconv.Itoa(i) + ".stl"
		if err := os.WriteFile(filepath.Join(media, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		want = append(want, f)
	}
	slices.Sort(want)
	old := refNow.Add(-48 * time.Hour)
	dsn := dbtest.NewMemory(t)
	dbtest.Insert(t, dbtest.DB(t, dsn),
		dbtest.Row{Slug: "stale", Status: "identifying", Created: old, File: "stl/2026/11/stale.stl"},
		dbtest.Row{Slug: "live", Status: "pending", Created: old, File: "stl/2026/11/live.stl"},
		dbtest.Row{Slug: "other", Status: "pending", Created: old, File: "stl/2026/10/other.stl"})
	// The walk trusts only a directory that changed at least its margin
	// (2 s) before it: wait it out, as a real install's directories have.
	time.Sleep(2100 * time.Millisecond)
	root, err := fs.NewRootFs(media)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	jfs := afero.NewMemMapFs()
	if _, err := runJournaled(t, dbtest.Open(t, dsn, false), root, jfs, fast(24, refNow)); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "surviving files", onDisk(t, media), want)

	f, err := jfs.Open(strings.TrimSuffix(journalName, "-pending") + "-tree")
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for dir, watched := range map[string]string{"stl/2026/11": "1", "stl/2026/10": "0"} {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(media, dir), &st); err != nil {
			t.Fatal(err)
		}
		want := "dir " + strconv.Quote(dir) + " " + strconv.FormatUint(uint64(st.Dev), 10) + " " +
			strconv.FormatUint(uint64(st.Ino), 10) + " " + strconv.FormatInt(st.Ctim.Nano(), 10) + " " + watched + "\n"
		if !strings.Contains(string(text), want) {
			t.Errorf("the kept walk has no line %q:\n%s", want, text)
		}
	}
}
