package conform

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// The contract's users and sessions (docs/contract.md, "Users and login", "Sessions").
const specContract = "chaosbench contract (docs/contract.md)"

func init() {
	// Signup and login are what every other rule stands on: they run without a logged-in user and fail
	// when setup could not sign up or log in, so that a service without them is never "conforming" with
	// every rule skipped.
	Register(Rule{ID: "auth.signup", Spec: specContract, Required: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			if s.Auth == nil && strings.HasPrefix(s.loginFail, "signup") {
				return Failed, s.loginFail
			}
			// Setup already created s.User: the same name again must be refused.
			creds := fmt.Sprintf(`{"username":%q,"password":%q}`, s.User, s.Password)
			r, err := s.Do(ctx, Req{Method: http.MethodPost, Path: "/v1/users", Body: creds, NoAuth: true})
			if ok, why := expect(r, err, http.StatusConflict, "username_taken"); !ok {
				return Failed, "signing up a taken username: " + why
			}
			return Passed, "201 for a new user, 409 username_taken for a taken name"
		}})
	Register(Rule{ID: "auth.login", Spec: specContract, Required: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			if s.Auth == nil {
				return Failed, s.loginFail
			}
			creds := fmt.Sprintf(`{"username":%q,"password":"wrong-password-9"}`, s.User)
			r, err := s.Do(ctx, Req{Method: http.MethodPost, Path: "/v1/login", Body: creds, NoAuth: true})
			if ok, why := expect(r, err, http.StatusUnauthorized, "invalid_credentials"); !ok {
				return Failed, "login with a wrong password: " + why
			}
			how := "a sid cookie"
			if s.Token != "" {
				how = "a bearer access_token"
			}
			return Passed, "login answers " + how + "; a wrong password is 401 invalid_credentials"
		}})
	Register(Rule{ID: "auth.required", Spec: "RFC 9110 §15.5.2 (401)", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			r, err := s.Do(ctx, Req{Method: http.MethodGet, Path: "/v1/profile"})
			if ok, why := expect(r, err, http.StatusOK, ""); !ok {
				return Failed, "profile with the login's credential: " + why
			}
			r, err = s.Do(ctx, Req{Method: http.MethodGet, Path: "/v1/profile", NoAuth: true})
			if ok, why := expect(r, err, http.StatusUnauthorized, ""); !ok {
				return Failed, "profile without a credential: " + why
			}
			return Passed, "profile is 200 with the credential and 401 without"
		}})
	Register(Rule{ID: "auth.unknown-credential", Spec: "RFC 6750 §3.1 (invalid_token)", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			if s.Token != "" {
				// A bearer token the service never issued.
				r, err := s.Do(ctx, Req{Method: http.MethodGet, Path: "/v1/profile", NoAuth: true,
					Header: map[string]string{"Authorization": "Bearer " + Nonce() + Nonce()}})
				if err != nil || r.Status != http.StatusUnauthorized {
					return Failed, "a made-up bearer token: want 401, got " + describe(r, err)
				}
				return Passed, "a made-up token is 401 " + r.Code()
			}
			r, err := s.Do(ctx, Req{Method: http.MethodGet, Path: "/v1/profile", NoAuth: true,
				Header: map[string]string{"Cookie": "sid=" + Nonce()}})
			if ok, why := expect(r, err, http.StatusUnauthorized, ""); !ok {
				return Failed, "an unknown session cookie: " + why
			}
			return Passed, "an unknown session cookie is 401 " + r.Code()
		}})
}
