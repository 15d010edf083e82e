package conform

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Attacks on JWT bearer tokens (RFC 8725, JSON Web Token Best Current Practices). They run only when the
// service's access_token is a JWT; forging valid-but-wrong tokens (expired, another issuer or audience)
// also needs the service's HS256 secret (WithJWTSecret).
func init() {
	forged := func(id, spec, what string, mutate func(h, c map[string]any) string) {
		Register(Rule{ID: id, Spec: spec, Required: true, NeedsLogin: true,
			Check: func(ctx context.Context, s *Suite) (Status, string) {
				h, c, sig, ok := splitJWT(s.Token)
				if !ok {
					return Skipped, "the service's tokens are not JWTs"
				}
				tok := mutate(h, c)
				if tok == "" {
					tok = joinJWT(h, c, sig)
				}
				return refused(ctx, s, tok, what)
			}})
	}
	forged("jwt.alg-none", "RFC 8725 §2.1, §3.1", "an unsigned token (alg none)", func(h, c map[string]any) string {
		h["alg"] = "none"
		return joinJWT(h, c, "")
	})
	forged("jwt.alg-confusion", "RFC 8725 §2.1, §3.1", "the same signature under another algorithm",
		func(h, c map[string]any) string {
			// An HMAC token relabelled as RSA, or an asymmetric one relabelled as HMAC: a verifier that
			// takes the algorithm from the token instead of its own configuration may accept it.
			if alg, _ := h["alg"].(string); strings.HasPrefix(alg, "HS") {
				h["alg"] = "RS256"
			} else {
				h["alg"] = "HS256"
			}
			return ""
		})
	forged("jwt.tampered", "RFC 7515 §5.2", "a token whose payload was changed after signing",
		func(h, c map[string]any) string {
			c["sub"] = "someone-else-" + Nonce()
			return ""
		})

	signed := func(id, spec, what, code string, mutate func(c jwt.MapClaims)) {
		Register(Rule{ID: id, Spec: spec, Required: true, NeedsLogin: true,
			Check: func(ctx context.Context, s *Suite) (Status, string) {
				h, c, _, ok := splitJWT(s.Token)
				if !ok {
					return Skipped, "the service's tokens are not JWTs"
				}
				if s.jwtSecret == "" {
					return Skipped, "needs the service's HS256 secret (--jwt-secret) to sign a token of its own"
				}
				if alg, _ := h["alg"].(string); alg != "HS256" {
					return Skipped, "the service signs with " + alg + ", not HS256"
				}
				// Control: the same claims re-signed with the given secret must be accepted, or the secret
				// is not the service's and a refusal would prove nothing.
				ctl, err := signHS256(h, c, s.jwtSecret, nil)
				if err != nil {
					return Failed, "sign: " + err.Error()
				}
				if r, err := s.Do(ctx, bearer(ctl)); err != nil || r.Status != http.StatusOK {
					return Skipped, "a token re-signed with the given secret is not accepted (" + describe(r, err) + "): wrong --jwt-secret?"
				}
				tok, err := signHS256(h, c, s.jwtSecret, mutate)
				if err != nil {
					return Failed, "sign: " + err.Error()
				}
				st, detail := refused(ctx, s, tok, what)
				if st == Passed && code != "" {
					r, _ := s.Do(ctx, bearer(tok))
					if r != nil && r.Code() != code {
						return Failed, what + ": want 401 " + code + ", got " + describe(r, nil)
					}
				}
				return st, detail
			}})
	}
	signed("jwt.expired", "RFC 7519 §4.1.4", "an expired token", "token_expired", func(c jwt.MapClaims) {
		c["exp"] = time.Now().Add(-time.Hour).Unix()
		c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
		c["nbf"] = time.Now().Add(-2 * time.Hour).Unix()
	})
	signed("jwt.wrong-issuer", "RFC 7519 §4.1.1", "a token from another issuer", "", func(c jwt.MapClaims) {
		c["iss"] = "someone-else"
	})
	signed("jwt.wrong-audience", "RFC 7519 §4.1.3", "a token for another audience", "", func(c jwt.MapClaims) {
		c["aud"] = []string{"someone-else"}
	})
}

func bearer(tok string) Req {
	return Req{Method: http.MethodGet, Path: "/v1/profile", NoAuth: true,
		Header: map[string]string{"Authorization": "Bearer " + tok}}
}

// refused checks that the service answers tok with 401.
func refused(ctx context.Context, s *Suite, tok, what string) (Status, string) {
	r, err := s.Do(ctx, bearer(tok))
	if err != nil || r.Status != http.StatusUnauthorized {
		return Failed, what + ": want 401, got " + describe(r, err)
	}
	return Passed, what + " is refused: 401 " + r.Code()
}

var b64 = base64.RawURLEncoding

// splitJWT decodes a compact JWS's header and claims; ok is false for anything that is not one.
func splitJWT(tok string) (header, claims map[string]any, sig string, ok bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, nil, "", false
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := b64.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			return nil, nil, "", false
		}
	}
	if _, has := header["alg"]; !has {
		return nil, nil, "", false
	}
	return header, claims, parts[2], true
}

func joinJWT(h, c map[string]any, sig string) string {
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(c)
	return b64.EncodeToString(hb) + "." + b64.EncodeToString(cb) + "." + sig
}

// signHS256 signs a copy of claims c, changed by mutate, with the header's other fields (kid) kept.
func signHS256(h, c map[string]any, secret string, mutate func(jwt.MapClaims)) (string, error) {
	claims := jwt.MapClaims{}
	for k, v := range c {
		claims[k] = v
	}
	if mutate != nil {
		mutate(claims)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	for k, v := range h {
		if k != "alg" {
			t.Header[k] = v
		}
	}
	return t.SignedString([]byte(secret))
}
