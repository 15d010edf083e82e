//go:build !linux

package load

import "time"

// sleepPrecise falls back to the runtime's timer where nanosleep is not wired up.
func sleepPrecise(d time.Duration) { time.Sleep(d) }
