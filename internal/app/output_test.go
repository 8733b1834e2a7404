//go:build linux

package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cleanup-stale/cleanup-stale/cleanup"
	"github.com/cleanup-stale/cleanup-stale/internal/dbtest"
)

// TestProgress: on a terminal, a big run counts down on stderr and clears
// the line at the end; anywhere else (systemd, CI, a pipe) it shows
// nothing.
func TestProgress(t *testing.T) {
	dsn := dbtest.NewMemory(t)
	if err := dbtest.Generate(dbtest.DB(t, dsn), dbtest.Spec{Rows: 12000, Stale: 8000, Now: generatedNow}); err != nil {
		t.Fatal(err)
	}
	db := dbtest.Open(t, dsn, false)
	opt := cleanup.Options{TTLHours: 24, Now: generatedNow}

	var pipe bytes.Buffer
	if cb := (&progressWriter{w: &pipe}).progress(context.Background(), db, opt); cb != nil {
		t.Error("progress shown on a writer that is not a terminal")
	}

	tty, read := pseudoTerminal(t)
	p := &progressWriter{w: tty}
	cb := p.progress(context.Background(), db, opt)
	if cb == nil {
		t.Fatal("no progress on a terminal")
	}
	cb(&cleanup.Report{Stale: 4000, Deleted: 3990, Failed: 10})
	p.clear()
	got := read()
	if !strings.Contains(got, "deleting: 3990 of 8000 stale rows (50%), 10 left behind") || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("terminal got %q", got)
	}
}

// pseudoTerminal opens a pseudo-terminal and returns its terminal side,
// and a function that reads what was written to it so far.
func pseudoTerminal(t *testing.T) (*os.File, func() string) {
	t.Helper()
	// Non-blocking, so that Go's poller takes it and read deadlines work.
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the terminal side: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	// Raw mode, so that the terminal passes the bytes through untouched.
	if tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS); err == nil {
		tio.Oflag &^= unix.OPOST
		unix.IoctlSetTermios(int(tty.Fd()), unix.TCSETS, tio)
	}
	// read drains the terminal until nothing more comes for 200 ms: the
	// writes may arrive in more than one read.
	return tty, func() string {
		var out []byte
		buf := make([]byte, 4096)
		for {
			if err := master.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
				t.Fatalf("read deadline on the terminal: %v", err)
			}
			n, err := master.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				return string(out)
			}
		}
	}
}
