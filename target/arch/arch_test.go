package arch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPresets(t *testing.T) {
	require.Equal(t, []string{"stateful", "stateless", "stateless-no-idempotency"}, PresetNames())
	for _, n := range PresetNames() {
		a, err := Preset(n)
		require.NoError(t, err)
		require.Equal(t, n, a.Name)
		require.Empty(t, a.Validate(), "preset %s is valid", n)
	}
	_, err := Preset("serverless")
	require.ErrorContains(t, err, `unknown architecture "serverless" (known: stateful, stateless, stateless-no-idempotency)`)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		arch Arch
		want []string // every error, each starting with its knob
	}{
		{"stateless knobs", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: RoundRobin}, nil},
		{"stateful knobs", Arch{Auth: "cookie", Sessions: "memory", Concurrency: "none", Balancer: Sticky}, nil},
		// Every bad knob is reported at once, not the first only.
		{"all wrong", Arch{Auth: "basic", Sessions: "disk", Concurrency: "lock", Balancer: "ip-hash"}, []string{
			`auth "basic": want jwt or cookie`, `sessions "disk": want redis or memory`,
			`concurrency "lock": want etag or none`, `balancer "ip-hash": want round-robin, least-conn or sticky`}},
		// An empty balancer is not NGINX's default: the scenario or the preset must say.
		{"no balancer", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag"}, []string{`balancer "": want`}},
		// A token pad within 0..256 KiB is a reference API knob like the others.
		{"token pad", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: RoundRobin, TokenPad: 70 << 10}, nil},
		// A negative or huge pad is a typo, named by the scenario's field.
		{"token pad out of range", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: RoundRobin, TokenPad: -1},
			[]string{"token_pad_bytes -1: want 0 (off) to 262144"}},
		// A user's image has no pad knob.
		{"token pad on an image", Arch{Service: Service{Image: "mine:1"}, Balancer: RoundRobin, TokenPad: 1024},
			[]string{"token_pad_bytes is a knob of the reference API"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.arch.Validate()
			require.Len(t, errs, len(tt.want))
			for i, w := range tt.want {
				require.ErrorContains(t, errs[i], w)
			}
		})
	}
}

func TestAPIEnv(t *testing.T) {
	a, err := Preset("stateful")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"AUTH": "cookie", "SESSIONS": "memory", "IDEMPOTENCY": "off",
		"CONCURRENCY": "none"}, a.APIEnv())
	a, err = Preset("stateless")
	require.NoError(t, err)
	require.Equal(t, "on", a.APIEnv()["IDEMPOTENCY"])
	_, set := a.APIEnv()["TOKEN_PAD_BYTES"]
	require.False(t, set, "no pad: the environment is as it always was")
	a.TokenPad = 8 << 10
	require.Equal(t, "8192", a.APIEnv()["TOKEN_PAD_BYTES"])
}

func TestRoleOf(t *testing.T) {
	tests := []struct {
		name string
		want Role
	}{
		{NodeName(1), RoleAPI}, // api-1
		{"api-12", RoleAPI},
		{"redis", RoleRedis},
		{"nginx", RoleNginx},
		{"any-api", ""},  // a target spec, not a container name (chaos.RoleOf reads it)
		{"postgres", ""}, // no container of the stack
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, RoleOf(tt.name), tt.name)
	}
}
