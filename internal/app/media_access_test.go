package app

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
)

// TestUnwritableMediaOneLine: a run as a user who may not remove the
// uploads keeps their rows (exit 1) and says so in one line with the
// cause and the way out, not in one line per row (51 of them here); the
// rows stay listed one by one in --json's failures. The cause is the
// right one: MEDIA_ROOT when the whole media root is another user's, the
// directory when one directory is, and nothing at all when MEDIA_ROOT
// itself is not writable but the directories the files are in are.
func TestUnwritableMediaOneLine(t *testing.T) {
	for _, c := range []struct {
		name  string
		chown []string // chown's arguments, run in MEDIA_ROOT
		says  []string
		not   string
	}{
		{"MEDIA_ROOT of another user", []string{"-R", "root:root", "."},
			[]string{"MEDIA_ROOT is not writable by uid 65534; run as the web app's user", "count=51"}, ""},
		{"one directory of another user", []string{"root:root", "stl/2026/11"},
			[]string{"uid 65534 may not remove files in 1 directory under MEDIA_ROOT: stl/2026/11 (uid 0, mode 0755)", "count=51"},
			"MEDIA_ROOT is not writable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, as := nobodyInstall(t)
			db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
			cmd := exec.Command("chown", c.chown...)
			cmd.Dir = media
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %v: %s", cmd.Args, err, out)
			}
			base := []string{"--db", db, "--media-root", media, "--now", refNow}
			for _, how := range [][]string{{"--dry-run"}, nil} {
				r := as(append(base, how...)...)
				r.wantKeptLine(t, c.says, c.not)
				j := as(append(base, append(how, "--json")...)...)
				j.wantKeptLine(t, c.says, c.not)
				var rep struct{ Failures []cleanup.Failure }
				if err := json.Unmarshal([]byte(lastLine(j.stdout)), &rep); err != nil {
					t.Fatalf("%v --json: %v: %q", how, err, j.stdout)
				}
				if len(rep.Failures) != 51 {
					t.Errorf("%v --json: %d failures, want the 51 rows one by one", how, len(rep.Failures))
				}
				for _, f := range rep.Failures {
					if f.Slug == "" || !strings.HasPrefix(f.Path, "stl/2026/11/") || !strings.Contains(f.Error, "permission denied") {
						t.Errorf("%v --json: failure %+v", how, f)
					}
				}
			}
			if n := countStale(t, db); n != 51 {
				t.Errorf("%d stale rows left, want the 51 whose files stay", n)
			}
		})
	}

	// MEDIA_ROOT root's, the upload directories the user's: every file can
	// go, and nothing is said about MEDIA_ROOT.
	t.Run("MEDIA_ROOT of another user, its directories ours", func(t *testing.T) {
		dir, as := nobodyInstall(t)
		db, media := filepath.Join(dir, "db.sqlite3"), filepath.Join(dir, "media")
		if err := os.Chown(media, 0, 0); err != nil {
			t.Fatal(err)
		}
		r := as("--db", db, "--media-root", media, "--now", refNow)
		if r.code != 0 || r.stderr != "" || r.stdout != "Deleted 66 stale submission(s) older than 24 h.\n" {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}

// wantKeptLine asserts exit 1 and one line on stderr that says each of
// says, and not not.
func (r result) wantKeptLine(t *testing.T, says []string, not string) {
	t.Helper()
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want exit 1 and one line", r.code, r.stderr)
	}
	for _, w := range says {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q does not say %q", r.stderr, w)
		}
	}
	if not != "" && strings.Contains(r.stderr, not) {
		t.Errorf("stderr %q says %q", r.stderr, not)
	}
}
