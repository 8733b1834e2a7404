package app

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestPermissions runs the real binary as an unprivileged user (root
// ignores file permissions) against what a new install gets wrong: an
// unreadable MEDIA_ROOT, an unreadable database, a database or directory
// the user may not write. Each is one line, exit 2, nothing changed.
func TestPermissions(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run the binary as another user")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv is not installed")
	}
	bin := binary(t)
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "cleanup-stale-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "media"), 0o755); os.RemoveAll(dir) })
	db := filepath.Join(dir, "db.sqlite3")
	dbtest.CopyReference(t, db, filepath.Join(dir, "media"))

	asNobody := func(args ...string) result {
		t.Helper()
		cmd := exec.Command(setpriv, append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", bin}, args...)...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return result{code, out.String(), errOut.String()}
	}
	base := []string{"--db", db, "--media-root", filepath.Join(dir, "media"), "--now", refNow}
	for _, tc := range []struct {
		name                    string
		dirMode, dbMode, mediaM os.FileMode
		dryRun                  bool
		words                   []string
	}{
		{"unreadable MEDIA_ROOT", 0o755, 0o666, 0o000, true, []string{"MEDIA_ROOT", "permission denied"}},
		{"unreadable database", 0o755, 0o000, 0o777, true, []string{"cannot read", "db.sqlite3"}},
		{"read-only database", 0o777, 0o644, 0o777, false, []string{"cannot write", "db.sqlite3"}},
		{"directory without write access", 0o755, 0o666, 0o777, false, []string{"cannot write in", "journal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for p, m := range map[string]os.FileMode{dir: tc.dirMode, db: tc.dbMode, filepath.Join(dir, "media"): tc.mediaM} {
				if err := os.Chmod(p, m); err != nil {
					t.Fatal(err)
				}
			}
			before := fingerprint(t, db)
			args := base
			if tc.dryRun {
				args = append(args, "--dry-run")
			}
			asNobody(args...).wantOneLineError(t, 2, tc.words...)
			if fingerprint(t, db) != before {
				t.Error("the database changed")
			}
		})
	}
	// A journal directory this user may not write: exit 2, nothing deleted.
	t.Run("state directory without write access", func(t *testing.T) {
		for p, m := range map[string]os.FileMode{dir: 0o777, db: 0o666, filepath.Join(dir, "media"): 0o777} {
			os.Chmod(p, m)
		}
		state := filepath.Join(dir, "state")
		if err := os.Mkdir(state, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(state)
		before := fingerprint(t, dir)
		asNobody(append(base, "--state-dir", state)...).wantOneLineError(t, 2, "journal", "permission denied")
		if fingerprint(t, dir) != before {
			t.Error("the install changed")
		}
	})
	// Upload directories this user may not write: the dry run exits 1, as
	// the real run does, says why in one line, and lists in --json the rows
	// that a real run would keep; the real run keeps exactly those rows and
	// their files.
	t.Run("upload directories without write access", func(t *testing.T) {
		for p, m := range map[string]os.FileMode{dir: 0o777, db: 0o666, filepath.Join(dir, "media"): 0o777} {
			os.Chmod(p, m)
		}
		before := fingerprint(t, dir)
		dry := asNobody(append(base, "--dry-run", "--json")...)
		if dry.code != 1 || !strings.Contains(dry.stderr, "a real run would keep this row") || strings.Count(dry.stderr, "\n") != 1 {
			t.Errorf("dry run: exit %d, stderr %q; want exit 1 and one line", dry.code, dry.stderr)
		}
		if fingerprint(t, dir) != before {
			t.Error("the dry run changed the install")
		}
		real := asNobody(base...)
		if real.code != 1 {
			t.Errorf("real run: exit %d, want 1 (stderr %q)", real.code, real.stderr)
		}
		var preview struct{ Failures []cleanup.Failure }
		if err := json.Unmarshal([]byte(dry.stdout), &preview); err != nil {
			t.Fatalf("dry run --json: %v", err)
		}
		var named []string
		for _, f := range preview.Failures {
			named = append(named, f.Slug)
		}
		slices.Sort(named)
		var left []string // the stale rows still there, as a dry run lists them
		for _, m := range regexp.MustCompile(`(?m)^ - (\S+) `).FindAllStringSubmatch(asNobody(append(base, "--dry-run")...).stdout, -1) {
			left = append(left, m[1])
		}
		slices.Sort(left)
		if len(named) == 0 || !slices.Equal(named, left) {
			t.Errorf("the dry run named %v; the real run kept %v", named, left)
		}
	})
	// With the right permissions the same user does the job.
	for p, m := range map[string]os.FileMode{dir: 0o777, db: 0o666, filepath.Join(dir, "media"): 0o777} {
		os.Chmod(p, m)
	}
	exec.Command("chmod", "-R", "a+rwX", filepath.Join(dir, "media")).Run()
	if r := asNobody(base...); r.code != 0 || !strings.HasPrefix(r.stdout, "Deleted ") || countStale(t, db) != 0 {
		t.Errorf("with access: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
}
