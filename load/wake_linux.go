//go:build linux

package load

import (
	"errors"
	"syscall"
	"time"
)

// sleepPrecise sleeps d in the kernel (nanosleep): its thread blocks, the runtime's timers are not
// involved. A signal (the runtime's preemption) interrupts it; it sleeps what is left.
func sleepPrecise(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var left syscall.Timespec
		if err := syscall.Nanosleep(&ts, &left); !errors.Is(err, syscall.EINTR) {
			return
		}
		ts = left
	}
}
