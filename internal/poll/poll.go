// Package poll repeats a cheap check until it succeeds or its context ends: readiness, a configuration
// being served, a restarted Redis answering. On timeout it returns the context's error together with the
// last check's, so the message says what was still wrong.
//
// Why not cenkalti/backoff (already in the module graph): its Retry returns only ctx.Err() when the
// context ends, dropping the last failure, which is the part a person needs; and these waits want a
// steady interval, not a growing one. The measured request retries of the load engine are another thing
// entirely and live in package load.
package poll

import (
	"context"
	"fmt"
	"time"
)

// Until calls check at once and then every interval until it returns nil or ctx ends. check receives
// ctx, so one slow try is cut short too.
func Until(ctx context.Context, every time.Duration, check func(context.Context) error) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last check: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}
