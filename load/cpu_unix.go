//go:build unix

package load

import (
	"syscall"
	"time"
)

// processCPU is this process's CPU time so far, user plus system, from getrusage(RUSAGE_SELF).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
