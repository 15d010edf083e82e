package load

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRegisterOpRefusesLoudly: a second op under a taken name, or one
// without a name, panics instead of replacing or hiding an op.
func TestRegisterOpRefusesLoudly(t *testing.T) {
	tests := []struct {
		name string
		op   Op
		want string
	}{
		// a built-in's name: the first registration stands.
		{"duplicate", HTTPGet{OpName: "profile.read"}, `load: op "profile.read" registered twice`},
		// no name: nothing could name it in a mix.
		{"empty", HTTPGet{}, fmt.Sprintf("load: op %T registered without a name", HTTPGet{})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.PanicsWithValue(t, tc.want, func() { RegisterOp(tc.op) })
		})
	}
	op, err := LookupOp("profile.read")
	require.NoError(t, err)
	assert.Equal(t, ProfileRead{}, op, "the built-in is still registered")
	_, err = LookupOp("nope")
	// (the external tests' ops may follow: they share this test binary)
	assert.ErrorContains(t, err, `unknown operation "nope" (known: cart.write, order.create, profile.read, resource.read, resource.update`)
}
