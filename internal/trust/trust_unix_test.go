//go:build unix

package trust_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"

	"github.com/cleanup-stale/cleanup-stale/internal/trust"
)

// refused asserts that err is one line of ErrUntrusted mentioning each
// of words.
func refused(t *testing.T, err error, words ...string) {
	t.Helper()
	if !errors.Is(err, trust.ErrUntrusted) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("%v; want one line of ErrUntrusted", err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}
}

func open(name string) error {
	f, err := trust.OpenFile(afero.NewOsFs(), name, os.O_RDONLY, 0)
	if err == nil {
		f.Close()
	}
	return err
}

// TestOpenFile: what OpenFile believes and what it refuses, each refusal
// with the file, the problem and the way out; the files stay as they
// were.
func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := open(good); err != nil {
		t.Errorf("a 0600 file of this user's: %v", err)
	}
	if err := os.Chmod(good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := open(good); err != nil {
		t.Errorf("a 0644 file of this user's: %v", err)
	}

	for _, mode := range []os.FileMode{0o620, 0o602, 0o666} {
		p := filepath.Join(dir, "open-"+mode.String())
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		refused(t, open(p), p, "writable by others", "chmod 0600 "+p)
	}

	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	refused(t, open(link), link, "symbolic link", "rm "+link)

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	refused(t, open(fifo), fifo, "not a regular file (a named pipe)")
	refused(t, open(dir), dir, "not a regular file (a directory)")

	other := filepath.Join(dir, "other-name")
	if err := os.Link(good, other); err != nil {
		t.Fatal(err)
	}
	refused(t, open(good), good, "has 2 links", "-samefile "+good)
	refused(t, open(other), other, "has 2 links")
	os.Remove(other)
	if err := open(good); err != nil {
		t.Errorf("once the other name is gone: %v", err)
	}

	if _, err := trust.OpenFile(afero.NewOsFs(), filepath.Join(dir, "missing"), os.O_RDONLY, 0); !os.IsNotExist(err) || errors.Is(err, trust.ErrUntrusted) {
		t.Errorf("a missing file: %v; want the open's own error", err)
	}
}

// TestOpenFileOfAnotherUser: a file that belongs to another user is
// refused, even mode 0600; the message says whose it is and both ways
// out. Only root can give a file away.
func TestOpenFileOfAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give a file to another user")
	}
	p := filepath.Join(t.TempDir(), "theirs")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	refused(t, open(p), p, "belongs to user 65534, not to this user (0)", "run as user 65534", "chown 0 "+p)
}

// TestDir: a state directory must be this user's or root's, and writable
// by no one else, unless it is sticky and this user's.
func TestDir(t *testing.T) {
	root := t.TempDir()
	mk := func(name string, mode os.FileMode, uid int) string {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if uid >= 0 {
			if err := os.Chown(p, uid, -1); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	for _, c := range []struct {
		name string
		mode os.FileMode
		ok   bool
		says string
	}{
		{"0700", 0o700, true, ""},
		{"0755", 0o755, true, ""},
		{"0770", 0o770, false, "(mode 0770)"},
		{"0775", 0o775, false, "(mode 0775)"},
		{"0777", 0o777, false, "(mode 0777)"},
		{"0757", 0o757, false, "(mode 0757)"},
		{"sticky, ours", 0o777 | os.ModeSticky, true, ""},
		{"sticky, group only", 0o770 | os.ModeSticky, true, ""},
	} {
		p := mk(strings.ReplaceAll(c.name, ", ", "-"), c.mode, -1)
		err := trust.Dir(p)
		if c.ok {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		refused(t, err, "state directory "+p, "writable by others", c.says, "chmod 0700 "+p)
	}
	file := filepath.Join(root, "file")
	os.WriteFile(file, nil, 0o600)
	refused(t, trust.Dir(file), "state directory "+file, "not a directory")
	refused(t, trust.Dir(filepath.Join(root, "missing")), "not a directory")

	// A link to a good directory is that directory.
	link := filepath.Join(root, "link")
	if err := os.Symlink(filepath.Join(root, "0700"), link); err != nil {
		t.Fatal(err)
	}
	if err := trust.Dir(link); err != nil {
		t.Errorf("a link to a good directory: %v", err)
	}

	if os.Geteuid() != 0 {
		return // the rest gives directories away
	}
	// root's own directories are root's: trusted when only root writes.
	theirs := mk("theirs", 0o700, 65534)
	refused(t, trust.Dir(theirs), "state directory "+theirs, "belongs to user 65534, not to this user (0)", "chown 0 "+theirs)
	stickyTheirs := mk("sticky-theirs", 0o777|os.ModeSticky, 65534)
	refused(t, trust.Dir(stickyTheirs), "belongs to user 65534")
}

// TestStateDir: systemd's $STATE_DIRECTORY comes first; else the XDG
// directory, created 0700 when asked; either is checked once it exists.
func TestStateDir(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("STATE_DIRECTORY", "")
	t.Setenv("XDG_STATE_HOME", xdg)
	want := filepath.Join(xdg, "cleanup-stale")
	if dir, err := trust.StateDir(false); err != nil || dir != want {
		t.Fatalf("StateDir(false) = %q, %v; want %q", dir, err, want)
	}
	if _, err := os.Lstat(want); !os.IsNotExist(err) {
		t.Fatalf("StateDir(false) created %s (%v)", want, err)
	}
	if dir, err := trust.StateDir(true); err != nil || dir != want {
		t.Fatalf("StateDir(true) = %q, %v", dir, err)
	}
	if fi, err := os.Stat(want); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("created %v, %v; want mode 0700", fi, err)
	}
	os.Chmod(want, 0o770)
	if _, err := trust.StateDir(false); !errors.Is(err, trust.ErrUntrusted) {
		t.Errorf("a group-writable XDG directory: %v", err)
	}

	sd := filepath.Join(t.TempDir(), "sd")
	os.Mkdir(sd, 0o777)
	os.Chmod(sd, 0o777)
	t.Setenv("STATE_DIRECTORY", sd+":/elsewhere")
	if dir, err := trust.StateDir(false); dir != sd || !errors.Is(err, trust.ErrUntrusted) {
		t.Errorf("$STATE_DIRECTORY 0777: %q, %v", dir, err)
	}
	os.Chmod(sd, 0o755)
	if dir, err := trust.StateDir(true); dir != sd || err != nil {
		t.Errorf("$STATE_DIRECTORY 0755: %q, %v", dir, err)
	}
}

// TestWritable: a file that this user may not write, by its mode, is
// reported with the system's reason. Root may write whatever the mode
// says, so only another user sees it.
func TestWritable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := trust.Writable(p); err != nil {
		t.Errorf("a 0600 file of this user's: %v", err)
	}
	if err := trust.Writable(filepath.Dir(p)); err != nil {
		t.Errorf("this user's directory: %v", err)
	}
	if os.Geteuid() == 0 {
		t.Skip("root may write a 0400 file")
	}
	os.Chmod(p, 0o400)
	if err := trust.Writable(p); !errors.Is(err, syscall.EACCES) {
		t.Errorf("a 0400 file: %v, want EACCES", err)
	}
}
