package cleanup

import (
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// bootID is the kernel's id of this boot, read once.
var bootID = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if id := strings.TrimSpace(string(b)); err == nil && validBootID(id) {
		return id
	}
	return ""
})

// bootClock returns this boot's id and the time since it began on
// CLOCK_BOOTTIME, which no one can step and which runs on while the
// system is suspended.
func bootClock() (string, time.Duration) {
	id := bootID()
	var ts unix.Timespec
	if id == "" || unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return "", 0
	}
	return id, time.Duration(ts.Nano())
}
