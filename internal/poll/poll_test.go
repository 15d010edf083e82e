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
