package poll

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestUntil(t *testing.T) {
	// Succeeds on the third try.
	n := 0
	err := Until(context.Background(), time.Millisecond, func(context.Context) error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, n)

	// Never succeeds: the context's error and the last failure, both.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	last := errors.New("redis: connection refused")
	err = Until(ctx, time.Millisecond, func(context.Context) error { return last })
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, last)

	// A cancelled context still gets one try.
	done, stop := context.WithCancel(context.Background())
	stop()
	tries := 0
	err = Until(done, time.Hour, func(context.Context) error { tries++; return last })
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 1, tries)
}

func TestRetry(t *testing.T) {
	ctx := context.Background()
	flaky := errors.New("status 503")
	for _, tc := range []struct {
		name  string
		fails int   // calls that fail before one is done
		final error // what the done call returns
		calls int
		want  error
	}{
		// Done on the first call: no wait.
		{"first", 0, nil, 1, nil},
		// Two failures, then done.
		{"third", 2, nil, 3, nil},
		// A final error (a 4xx, say) ends the tries at once and is returned.
		{"final error", 1, errors.New("status 400"), 2, errors.New("status 400")},
		// Never done: every try used, the last failure returned.
		{"exhausted", 10, nil, 4, flaky},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			err := Retry(ctx, 4, time.Millisecond, func(context.Context) (bool, error) {
				if n++; n <= tc.fails {
					return false, flaky
				}
				return true, tc.final
			})
			require.Equal(t, tc.calls, n)
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				require.EqualError(t, err, tc.want.Error())
			}
		})
	}

	// The context ends during a wait: its error, with the last failure.
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err := Retry(cctx, 5, time.Hour, func(context.Context) (bool, error) { return false, flaky })
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, flaky)
}
