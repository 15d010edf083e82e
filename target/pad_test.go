package target

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/stretchr/testify/require"
)

// TestTokenPad: TOKEN_PAD_BYTES makes the credential about N bytes, the padded credential still
// authenticates while the request's headers fit in MaxHeaderBytes, and past it the API answers 431
// headers_too_large (its own JSON, before any token check).
func TestTokenPad(t *testing.T) {
	rs := redistest.Start(t)
	const limit = 16 << 10 // DefaultConfig's MaxHeaderBytes
	cases := []struct {
		name string
		auth AuthMode
		pad  int
		want int // status of GET /v1/profile with the padded credential
	}{
		// A small pad below the natural size of the token: nothing to add, the token stays as it is.
		{"jwt under its natural size", AuthJWT, 64, http.StatusOK},
		// The seeds' "keep payloads under 2 KB" and a header of 4 and 8 KiB: all fit in 16 KiB.
		{"jwt 1 KiB", AuthJWT, 1 << 10, http.StatusOK},
		{"jwt 4 KiB", AuthJWT, 4 << 10, http.StatusOK},
		{"jwt 8 KiB", AuthJWT, 8 << 10, http.StatusOK},
		// Just under the API's limit once the other headers are counted: still verifies.
		{"jwt 15 KiB", AuthJWT, 15 << 10, http.StatusOK},
		// Past the API's 16 KiB: 431 before the token is even parsed.
		{"jwt 20 KiB", AuthJWT, 20 << 10, http.StatusRequestHeaderFieldsTooLarge},
		// Past NGINX's 64 KiB line too (the API alone here answers its own 431).
		{"jwt 70 KiB", AuthJWT, 70 << 10, http.StatusRequestHeaderFieldsTooLarge},
		// Cookie mode pads the sid cookie in front of the id; the session is still found.
		{"cookie 4 KiB", AuthCookie, 4 << 10, http.StatusOK},
		{"cookie 15 KiB", AuthCookie, 15 << 10, http.StatusOK},
		// And past the limit the cookie gets the same 431.
		{"cookie 20 KiB", AuthCookie, 20 << 10, http.StatusRequestHeaderFieldsTooLarge},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, rs, "n1", func(c *Config) { c.Auth, c.TokenPadBytes = tc.auth, tc.pad })
			user := fmt.Sprintf("pad%d", i)
			c := n.newClient(user)
			cred := c.auth[1]
			if tc.auth == AuthJWT {
				cred = strings.TrimPrefix(cred, "Bearer ")
			} else {
				cred = strings.TrimPrefix(cred, "sid=")
			}
			if tc.pad > 300 {
				require.InDelta(t, tc.pad, len(cred), 3, "credential length")
			} else {
				require.Less(t, len(cred), 1024, "an unpadded credential")
			}
			r := n.do("GET", "/v1/profile", nil, c.auth...)
			require.Equal(t, tc.want, r.Code, "body: %.200s", r.Body)
			if tc.want == http.StatusOK {
				require.Equal(t, c.session, r.json(t)["session_id"], "the padded credential names its session")
				require.Less(t, tc.pad, limit)
			} else {
				require.Equal(t, CodeHeadersTooLarge, r.code(t))
			}
		})
	}
}

// TestTokenPadAlgorithms: the padding claim lands within a few bytes of N whatever the signature's
// length (HS256's 32 bytes, EdDSA's 64), and the padded token verifies.
func TestTokenPadAlgorithms(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "ed25519.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clk := &clock{t: now}
	for _, alg := range []string{"HS256", "EdDSA"} {
		for _, size := range []int{500, 2000, 2001, 2002, 2003, 16 << 10, 70 << 10} {
			tk := hsTokens(t, clk.now, func(c *Config) {
				c.JWTAlg, c.TokenPadBytes = alg, size
				if alg == "EdDSA" {
					c.JWTPrivateKeyFile = keyFile
				}
			})
			raw, err := tk.issue("user-0123", "session-0123456789")
			require.NoError(t, err)
			require.InDelta(t, size, len(raw), 2, "%s %d", alg, size)
			c, code := tk.parse(raw)
			require.Empty(t, code, "%s %d", alg, size)
			require.Equal(t, "session-0123456789", c.SessionID)
		}
	}
}

// TestPadCookie: the session id survives padding and unpadding, and a cookie that needs no padding is
// the id itself.
func TestPadCookie(t *testing.T) {
	for _, tc := range []struct {
		sid  string
		size int
	}{
		{"abc.api-1", 0},    // off
		{"abc.api-1", 5},    // smaller than the id: unchanged
		{"abc.api-1", 4096}, // padded
		{"abc.api-1", 10},   // one byte bigger than the id: room for the separator only, so unchanged
	} {
		v := padCookie(tc.sid, tc.size)
		require.Equal(t, tc.sid, unpadCookie(v))
		require.GreaterOrEqual(t, len(v), min(tc.size, len(tc.sid)))
		if tc.size > len(tc.sid)+1 {
			require.Len(t, v, tc.size)
		}
	}
}
