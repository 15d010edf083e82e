//go:build !unix

package load

import "time"

// processCPU is not measured here: Result.CPU stays 0.
func processCPU() time.Duration { return 0 }
