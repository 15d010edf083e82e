package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckScale(t *testing.T) {
	for _, f := range []float64{0.01, 1, 10} {
		require.NoError(t, CheckScale(f), "%g", f)
	}
	for f, want := range map[float64]string{0: "0", -1: "-1", 10.5: "10.5", 11: "11"} {
		require.EqualError(t, CheckScale(f), want+": want a factor in (0, 10]")
	}
}
