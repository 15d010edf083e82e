package target

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

func hsTokens(t *testing.T, now func() time.Time, mutate func(*Config)) *tokens {
	t.Helper()
	cfg := testConfig("redis://unused", "n")
	if mutate != nil {
		mutate(&cfg)
	}
	tk, err := newTokens(cfg, now)
	require.NoError(t, err)
	return tk
}

// sign builds a token with arbitrary claims and header, for attacks.
func sign(t *testing.T, method jwt.SigningMethod, key any, c jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func TestTokenEdgeCases(t *testing.T) {
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clk := &clock{t: base}
	tk := hsTokens(t, clk.now, nil)
	good := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"sub": "u1", "sid": "s1", "iss": "chaosbench-refapi", "aud": "chaosbench",
			"iat": base.Unix(), "nbf": base.Unix(), "exp": base.Add(time.Hour).Unix(),
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	secret := []byte(testSecret)
	valid := sign(t, jwt.SigningMethodHS256, secret, good(nil), tk.kid)

	cases := []struct {
		name  string
		token string
		want  string // "" accepted, else the 401 code
	}{
		// The baseline: a token we issued ourselves is accepted.
		{"valid", valid, ""},
		// Without kid the current key is used (tokens from other issuers of the same deployment).
		{"valid without kid", sign(t, jwt.SigningMethodHS256, secret, good(nil), ""), ""},
		// alg "none" must never be accepted, whatever the claims.
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good(nil), ""), CodeTokenInvalid},
		// Another HMAC size is another algorithm: only HS256 is configured.
		{"HS512 with the right secret", sign(t, jwt.SigningMethodHS512, secret, good(nil), tk.kid), CodeTokenInvalid},
		// Past exp beyond the leeway: expired, told apart from invalid.
		{"expired", sign(t, jwt.SigningMethodHS256, secret, good(func(c jwt.MapClaims) { c["exp"] = base.Add(-time.Minute).Unix() }), tk.kid), CodeTokenExpired},
		// Expired 2s ago, inside the 5s leeway for clock skew between nodes: accepted.
		{"expired within leeway", sign(t, jwt.SigningMethodHS256, secret, good(func(c jwt.MapClaims) { c["exp"] = base.Add(-2 * time.Second).Unix() }), tk.kid), ""},
		// nbf in the future beyond the leeway.
		{"not yet valid", sign(t, jwt.SigningMethodHS256, secret, good(func(c jwt.MapClaims) { c["nbf"] = base.Add(time.Minute).Unix() }), tk.kid), CodeTokenInvalid},
		// iat in the future: a token from a node with a wildly wrong clock.
		{"issued in the future", sign(t, jwt.SigningMethodHS256, secret, good(func(c jwt.MapClaims) { c["iat"] = base.Add(time.Hour).Unix() }), tk.kid), CodeTokenInvalid},
		// A token for another service must not be accepted here.
		{"wrong issuer", sign(t, jwt.SigningMethodHS256, secret, good(func(c jwt.MapClaims) { c["iss"] = "evil" }), tk.kid), CodeTokenInvalid},
		{"wrong audience", sign(t, jwt.SigningMethodHS256, secret, good(func(c jwt.MapClaims) { c["aud"] = "other-api" }), tk.kid), CodeTokenInvalid},
		// exp is required: a token that never expires is refused.
		{"no exp", sign(t, jwt.SigningMethodHS256, secret, good(func(c jwt.MapClaims) { delete(c, "exp") }), tk.kid), CodeTokenInvalid},
		// Without sid the token names no session.
		{"no sid", sign(t, jwt.SigningMethodHS256, secret, good(func(c jwt.MapClaims) { delete(c, "sid") }), tk.kid), CodeTokenInvalid},
		// Signed with a secret we do not know.
		{"unknown secret", sign(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef0123"), good(nil), ""), CodeTokenInvalid},
		// A kid that names no key of ours.
		{"unknown kid", sign(t, jwt.SigningMethodHS256, secret, good(nil), "deadbeef"), CodeTokenInvalid},
		// Payload changed after signing (sub swapped): the signature no longer matches.
		{"tampered payload", tamper(t, valid, func(c map[string]any) { c["sub"] = "admin" }), CodeTokenInvalid},
		{"garbage", "not.a.token", CodeTokenInvalid},
		{"empty", "", CodeTokenInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, code := tk.parse(tc.token)
			require.Equal(t, tc.want, code)
			if tc.want == "" {
				require.Equal(t, "u1", c.Subject)
				require.Equal(t, "s1", c.SessionID)
			}
		})
	}
}

func tamper(t *testing.T, token string, mod func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, jsonUnmarshal(raw, &c))
	mod(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(jsonMarshal(t, c))
	return strings.Join(parts, ".")
}

func TestTokenRotation(t *testing.T) {
	clk := &clock{t: time.Now()}
	oldSecret := "old-secret-0123456789abcdef0123456789"
	old := hsTokens(t, clk.now, func(c *Config) { c.JWTSecret = oldSecret })
	issuedBefore, err := old.issue("u1", "s1")
	require.NoError(t, err)

	// After rotation the new key signs and the previous one still verifies.
	rotated := hsTokens(t, clk.now, func(c *Config) { c.JWTPreviousSecret = oldSecret })
	_, code := rotated.parse(issuedBefore)
	require.Empty(t, code, "a token signed with the previous key must be accepted during rotation")
	issuedAfter, err := rotated.issue("u1", "s1")
	require.NoError(t, err)
	_, code = rotated.parse(issuedAfter)
	require.Empty(t, code)

	// Once the previous key is dropped, its tokens are refused.
	done := hsTokens(t, clk.now, nil)
	_, code = done.parse(issuedBefore)
	require.Equal(t, CodeTokenInvalid, code)
}

func writePEM(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	return p
}

func TestAsymmetricTokensAndAlgorithmConfusion(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	now := time.Now
	for _, tc := range []struct {
		alg string
		key any
		pub any
	}{
		{"RS256", rsaKey, &rsaKey.PublicKey},
		{"EdDSA", edKey, edKey.Public()},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			tk := hsTokens(t, now, func(c *Config) { c.JWTAlg = tc.alg; c.JWTPrivateKeyFile = writePEM(t, tc.key) })
			tok, err := tk.issue("u1", "s1")
			require.NoError(t, err)
			_, code := tk.parse(tok)
			require.Empty(t, code)

			// Algorithm confusion: an attacker signs HS256 with the public key
			// bytes as the HMAC secret. Only the configured algorithm verifies.
			der, err := x509.MarshalPKIXPublicKey(tc.pub)
			require.NoError(t, err)
			pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			forged := sign(t, jwt.SigningMethodHS256, pubPEM, jwt.MapClaims{
				"sub": "u1", "sid": "s1", "iss": "chaosbench-refapi", "aud": "chaosbench",
				"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
			}, tk.kid)
			_, code = tk.parse(forged)
			require.Equal(t, CodeTokenInvalid, code)
		})
	}
}

func TestAsymmetricKeyMismatchIsAConfigError(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	cfg := testConfig("redis://unused", "n")
	cfg.JWTAlg, cfg.JWTPrivateKeyFile = "RS256", writePEM(t, edKey)
	_, err = newTokens(cfg, time.Now)
	require.ErrorContains(t, err, "Ed25519 key needs JWT_ALG=EdDSA")
}

// The verified-token cache must not change any verdict: a cached token
// still expires, a changed byte is a miss (and fails verification), and a
// token that failed is never cached.
func TestTokenCacheKeepsVerdicts(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	tk := hsTokens(t, clk.now, func(c *Config) { c.TokenTTL = time.Minute })
	require.NotNil(t, tk.cache)
	tok, err := tk.issue("u1", "s1")
	require.NoError(t, err)
	for range 2 { // miss, then hit
		c, code := tk.parse(tok)
		require.Empty(t, code)
		require.Equal(t, "s1", c.SessionID)
	}
	require.Equal(t, 1, tk.cache.Len())

	_, code := tk.parse(tamper(t, tok, func(c map[string]any) { c["sid"] = "s2" }))
	require.Equal(t, CodeTokenInvalid, code, "a tampered token is not served from the cache")
	require.Equal(t, 1, tk.cache.Len(), "failures are not cached")

	clk.advance(time.Minute + 4*time.Second) // inside the 5 s leeway
	_, code = tk.parse(tok)
	require.Empty(t, code)
	clk.advance(2 * time.Second)
	_, code = tk.parse(tok)
	require.Equal(t, CodeTokenExpired, code, "expiry is checked on a cache hit")
	require.Zero(t, tk.cache.Len())
}
