package arch

import (
	"fmt"
	"time"
)

// Refresh tokens (Arch.Refresh): the reference API's ACCESS_TTL, with REFRESH_GRACE (target/refresh.go).
// The limits keep a scenario meaningful: an access token shorter than MinRefresh would be refreshed on
// nearly every request (the API counts lifetimes in whole seconds), and a grace past MaxRefreshGrace
// would undo reuse detection.
const (
	MinRefresh      = 2 * time.Second
	MaxRefreshGrace = time.Minute
)

// checkRefresh refuses refresh knobs a design cannot run: on a user's image, without jwt and Redis
// sessions (the family lives in the Redis session), or out of range. The error starts with the knob.
func (a Arch) checkRefresh() error {
	switch {
	case a.Refresh == 0 && a.RefreshGrace == 0:
		return nil
	case a.Service.Custom():
		return fmt.Errorf("refresh is a knob of the reference API: a custom image (%s) does not understand it", a.Service.Image)
	case a.Refresh == 0:
		return fmt.Errorf("refresh_grace %s: needs refresh (the access token's lifetime) set", a.RefreshGrace)
	case a.Refresh < MinRefresh:
		return fmt.Errorf("refresh %s: want at least %s", a.Refresh, MinRefresh)
	case a.RefreshGrace < 0 || a.RefreshGrace > MaxRefreshGrace:
		return fmt.Errorf("refresh_grace %s: want 0 to %s", a.RefreshGrace, MaxRefreshGrace)
	case a.Auth != "jwt" || a.Sessions != "redis":
		return fmt.Errorf("refresh needs auth jwt and sessions redis (the token family lives in the Redis session), not %s and %s", a.Auth, a.Sessions)
	}
	return nil
}

// refreshEnv adds ACCESS_TTL and REFRESH_GRACE when refresh is on (off leaves the environment as it was).
func (a Arch) refreshEnv(env map[string]string) {
	if a.Refresh > 0 {
		env["ACCESS_TTL"] = a.Refresh.String()
		if a.RefreshGrace > 0 {
			env["REFRESH_GRACE"] = a.RefreshGrace.String()
		}
	}
}
