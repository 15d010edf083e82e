// Package poll repeats a cheap check until it succeeds or its context ends: readiness, a configuration
// being served, a restarted Redis answering (Until); and a few quick tries of setup work that no
// measurement sees, logins and ground-truth reads (Retry). On timeout it returns the context's error together with the
// last check's, so the message says what was still wrong.
//
// Why not cenkalti/backoff (already in the module graph): its Retry returns only ctx.Err() when the
// context ends, dropping the last failure, which is the part a person needs; Until's waits want a steady
// interval, and Retry's few tries a plain doubling with no jitter to configure. The measured request retries of the load engine are another thing
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

// Retry calls try up to tries times, waiting first and then twice as long after each failed call, until
// try says it is done or ctx ends. It returns try's last error (the context's, with it, when ctx ended).
// try decides what is worth another call: a transport error or a 5xx, say, but not a 4xx.
func Retry(ctx context.Context, tries int, first time.Duration, try func(context.Context) (done bool, err error)) error {
	var last error
	wait := first
	for i := range tries {
		if i > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				if last == nil {
					return ctx.Err()
				}
				return fmt.Errorf("%w (last try: %w)", ctx.Err(), last)
			case <-t.C:
			}
			wait *= 2
		}
		done, err := try(ctx)
		if done {
			return err
		}
		last = err
	}
	return last
}

// Sleep waits d, or less when ctx ends first; it reports whether it waited all of d (d <= 0: at once,
// true unless ctx has ended). The one context-aware sleep of the harness's loops.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
