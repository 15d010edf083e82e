package conform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Rotating refresh tokens (docs/contract.md, "Refresh tokens"; OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
// They run when the service's login answers a refresh_token, each on a login of its own: reuse detection
// revokes a whole family, which must not cost the other rules their user.
const specRefresh = "RFC 9700 §4.14.2 (refresh token rotation)"

// maxAccessWait bounds how long refresh.expired-access waits for an access token to expire by itself:
// longer-lived tokens skip it (a suite is a few seconds, not minutes).
const maxAccessWait = 30 * time.Second

// tokenPair is what a login or a refresh answers with refresh tokens on.
type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

func init() {
	Register(Rule{ID: "refresh.rotation", Spec: specRefresh, Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			p0, st, why := s.refreshLogin(ctx)
			if st != Passed {
				return st, why
			}
			p1, why := s.refresh(ctx, p0.RefreshToken)
			if why != "" {
				return Failed, "refreshing the login's token: " + why
			}
			if p1.RefreshToken == p0.RefreshToken {
				return Failed, "the refresh answered the same refresh token: it does not rotate"
			}
			r, err := s.Do(ctx, bearer(p1.AccessToken))
			if ok, why := expect(r, err, http.StatusOK, ""); !ok {
				return Failed, "profile with the refreshed access token: " + why
			}
			// Use the child first: a grace for lost answers may excuse the parent until then, never after.
			if _, why := s.refresh(ctx, p1.RefreshToken); why != "" {
				return Failed, "refreshing the rotated token: " + why
			}
			r, err = s.Do(ctx, Req{Method: http.MethodPost, Path: "/v1/refresh", NoAuth: true, Body: refreshBody(p0.RefreshToken)})
			if ok, why := expect(r, err, http.StatusUnauthorized, ""); !ok {
				return Failed, "the first refresh token again, after its successor was used: " + why
			}
			return Passed, "each refresh answers a new pair; a used refresh token is refused (" + describe(r, nil) + ")"
		}})
	Register(Rule{ID: "refresh.reuse-revokes-family", Spec: specRefresh, Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			p0, st, why := s.refreshLogin(ctx)
			if st != Passed {
				return st, why
			}
			p1, why := s.refresh(ctx, p0.RefreshToken)
			if why != "" {
				return Failed, "refreshing the login's token: " + why
			}
			p2, why := s.refresh(ctx, p1.RefreshToken)
			if why != "" {
				return Failed, "refreshing the rotated token: " + why
			}
			// p0 is two generations back: whoever presents it holds a stolen or replayed copy.
			r, err := s.Do(ctx, Req{Method: http.MethodPost, Path: "/v1/refresh", NoAuth: true, Body: refreshBody(p0.RefreshToken)})
			if ok, why := expect(r, err, http.StatusUnauthorized, "refresh_token_reused"); !ok {
				return Failed, "a reused refresh token: " + why
			}
			r, err = s.Do(ctx, Req{Method: http.MethodPost, Path: "/v1/refresh", NoAuth: true, Body: refreshBody(p2.RefreshToken)})
			if ok, why := expect(r, err, http.StatusUnauthorized, ""); !ok {
				return Failed, "the family's newest refresh token after the reuse: " + why
			}
			access := "its access tokens live on until they expire"
			r, err = s.Do(ctx, bearer(p2.AccessToken))
			if err == nil && r.Status == http.StatusUnauthorized {
				access = "its access tokens are refused too (" + r.Code() + ")"
			}
			return Passed, "a reused refresh token is 401 refresh_token_reused and revokes the family: its newest refresh token is refused; " + access
		}})
	Register(Rule{ID: "refresh.expired-access", Spec: "RFC 6750 §3.1 (invalid_token); " + specContract, Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			p0, st, why := s.refreshLogin(ctx)
			if st != Passed {
				return st, why
			}
			life := time.Duration(p0.ExpiresIn) * time.Second
			if p0.ExpiresIn <= 0 || life > maxAccessWait {
				return Skipped, fmt.Sprintf("access tokens live %ds: longer than the %s this rule waits for one to expire", p0.ExpiresIn, maxAccessWait)
			}
			// Wait for it to expire by itself: its lifetime, then whatever leeway the service grants, read by
			// asking every half second (the service's leeway is its own; a minute more is generous).
			if !sleep(ctx, life) {
				return Skipped, "interrupted"
			}
			var r *Resp
			var err error
			for deadline := time.Now().Add(time.Minute); ; {
				r, err = s.Do(ctx, bearer(p0.AccessToken))
				if err != nil || r.Status != http.StatusOK || time.Now().After(deadline) || !sleep(ctx, 500*time.Millisecond) {
					break
				}
			}
			if ok, why := expect(r, err, http.StatusUnauthorized, "token_expired"); !ok {
				return Failed, "an access token past its expires_in: " + why
			}
			p1, why := s.refresh(ctx, p0.RefreshToken)
			if why != "" {
				return Failed, "refreshing after the access token expired: " + why
			}
			r, err = s.Do(ctx, bearer(p1.AccessToken))
			if ok, why := expect(r, err, http.StatusOK, ""); !ok {
				return Failed, "profile with the refreshed access token: " + why
			}
			return Passed, "an expired access token is 401 token_expired, and a refresh cures it"
		}})
	Register(Rule{ID: "refresh.invalid", Spec: specRefresh, Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			p0, st, why := s.refreshLogin(ctx)
			if st != Passed {
				return st, why
			}
			r, err := s.Do(ctx, Req{Method: http.MethodPost, Path: "/v1/refresh", NoAuth: true, Body: refreshBody("made-up-" + Nonce() + Nonce())})
			if ok, why := expect(r, err, http.StatusUnauthorized, "refresh_token_invalid"); !ok {
				return Failed, "a made-up refresh token: " + why
			}
			// A garbage token names no family, so it must not have revoked one.
			if _, why := s.refresh(ctx, p0.RefreshToken); why != "" {
				return Failed, "a real refresh token after a made-up one: " + why
			}
			return Passed, "a made-up refresh token is 401 refresh_token_invalid and revokes nothing"
		}})
}

// refreshLogin logs the suite's user in anew: a family of its own. Skipped when the service hands out no
// refresh tokens.
func (s *Suite) refreshLogin(ctx context.Context) (tokenPair, Status, string) {
	creds := fmt.Sprintf(`{"username":%q,"password":%q}`, s.User, s.Password)
	r, err := s.Do(ctx, Req{Method: http.MethodPost, Path: "/v1/login", Body: creds, NoAuth: true})
	if ok, why := expect(r, err, http.StatusOK, ""); !ok {
		return tokenPair{}, Failed, "login: " + why
	}
	var p tokenPair
	_ = json.Unmarshal(r.Body, &p)
	if p.RefreshToken == "" || p.AccessToken == "" {
		return p, Skipped, "the service's login answers no refresh_token (refresh tokens off)"
	}
	return p, Passed, ""
}

// refresh trades token for a new pair; why says what was wrong instead.
func (s *Suite) refresh(ctx context.Context, token string) (tokenPair, string) {
	r, err := s.Do(ctx, Req{Method: http.MethodPost, Path: "/v1/refresh", NoAuth: true, Body: refreshBody(token)})
	if ok, why := expect(r, err, http.StatusOK, ""); !ok {
		return tokenPair{}, why
	}
	var p tokenPair
	if json.Unmarshal(r.Body, &p) != nil || p.AccessToken == "" || p.RefreshToken == "" {
		return p, "the answer has no access_token and refresh_token: " + describe(r, nil)
	}
	return p, ""
}

func refreshBody(token string) string {
	b, _ := json.Marshal(map[string]string{"refresh_token": token})
	return string(b)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
