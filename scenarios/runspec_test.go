package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSpec: the one check of what a command asks of a run; each refusal names its field first, so that a
// command adds its flag's dashes ("--scale 11: ...").
func TestSpec(t *testing.T) {
	plan, err := Load("compare-architectures")
	require.NoError(t, err)
	seven := int64(7)
	cases := []struct {
		name string
		ask  Ask
		want string // the error's start; "" accepts
	}{
		// The scenario as written: every architecture, scale 1, its seed.
		{"zero", Ask{}, ""},
		// A selection in the order asked, scaled, seeded.
		{"picked", Ask{Archs: []string{"stateful", "stateless"}, Scale: 0.5, Seed: &seven}, ""},
		// Scale outside (0, 10].
		{"scale", Ask{Scale: 11}, "scale 11: want a factor in (0, 10]"},
		// An architecture the scenario does not have, named with the ones it has.
		{"arch", Ask{Archs: []string{"nope"}}, `arch: "nope" is not an architecture of scenario compare-architectures`},
		// More loader containers than the bound.
		{"workers", Ask{Workers: MaxWorkers + 1}, "workers 33: want 0"},
		// Fewer clients than workers: one would send nothing.
		{"clients", Ask{Workers: plan.Clients + 1}, "workers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec, err := plan.Spec(c.ask)
			if c.want != "" {
				require.ErrorContains(t, err, c.want)
				require.Regexp(t, "^"+c.want[:5], err.Error(), "the field first")
				return
			}
			require.NoError(t, err)
			require.NotEmpty(t, spec.Archs)
		})
	}
	spec, err := plan.Spec(Ask{Archs: []string{"stateful", "stateless"}, Scale: 0.5, Seed: &seven})
	require.NoError(t, err)
	require.Equal(t, "stateful", spec.Archs[0].Name, "the order asked")
	require.Equal(t, int64(7), spec.Seed)
	require.Equal(t, plan.Duration()/2, spec.Plan.Duration(), "scaled once, here")
	require.Equal(t, EngineSeed(7), spec.LoadConfig(spec.Archs[0], "http://127.0.0.1:1").Seed)
}

// TestSpecWorkersRefuses: what loader containers cannot carry honestly, refused before anything runs;
// declared ops are not among it.
func TestSpecWorkersRefuses(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		// A URL on this host.
		{"attached", "name: u\ntarget: {url: http://127.0.0.1:8080}\nphases: [{duration: 5s, rate: 10/s}]\n", "attached"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse(c.name+".yaml", []byte(c.yaml))
			require.NoError(t, err)
			p.Source = c.name + ".yaml"
			_, err = p.Spec(Ask{})
			require.NoError(t, err, "no workers: nothing to refuse")
			_, err = p.Spec(Ask{Workers: 2})
			require.ErrorContains(t, err, c.want)
		})
	}
	// Declared ops in chaosbench's stack are carried: the workers read them from the scenario file.
	p, err := Parse("d.yaml", []byte("name: d\ntarget: {image: td:dev}\nphases: [{duration: 5s, rate: 10/s}]\n"+
		"ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: /x}\n"))
	require.NoError(t, err)
	require.True(t, p.Declared())
	p.Source = "d.yaml"
	_, err = p.Spec(Ask{Workers: 2})
	require.NoError(t, err)
}

func TestEngineSeed(t *testing.T) {
	// 0 is a real seed: the engine reads 0 as "random", so it never gets one.
	seen := map[uint64]int64{}
	for _, s := range []int64{0, 1, -1, 42, 1 << 40} {
		e := EngineSeed(s)
		require.NotZero(t, e)
		require.Equal(t, e, EngineSeed(s), "deterministic")
		_, dup := seen[e]
		require.False(t, dup, "seeds %d and %d collide", s, seen[e])
		seen[e] = s
	}
}
