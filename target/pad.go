package target

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// MaxTokenPadBytes bounds TOKEN_PAD_BYTES: past NGINX's 64 KiB header line and the API's own 16 KiB
// header limit, a bigger token measures nothing new.
const MaxTokenPadBytes = 1 << 20

// padByte fills the padding: one ASCII letter, valid in a JWT claim and in a cookie value alike.
const padByte = "p"

// cookiePadSep ends the padding in front of a padded sid cookie's session id: neither a session id
// (base64url) nor a node id ([A-Za-z0-9._-]) holds it, and it is a valid cookie byte.
const cookiePadSep = '~'

// tokenPad pads a JWT with a "pad" claim so that the encoded token is about size bytes: the giant
// tokens the seeds warn about ("keep payloads under 2 KB"), made on purpose.
type tokenPad struct {
	size int
	// overhead is the token's length outside its claims segment (header, signature, dots): fixed for
	// a given key and algorithm, so that fill computes the claim's length instead of signing twice.
	overhead int
}

// init measures the overhead with a probe token.
func (p *tokenPad) init(t *tokens, size int) error {
	p.size = size
	if size <= 0 {
		return nil
	}
	probe := claims{SessionID: "probe", RegisteredClaims: jwt.RegisteredClaims{Subject: "probe"}}
	tok, err := t.sign(probe)
	if err != nil {
		return fmt.Errorf("TOKEN_PAD_BYTES: sign a probe token: %w", err)
	}
	raw, err := json.Marshal(probe)
	if err != nil {
		return fmt.Errorf("TOKEN_PAD_BYTES: encode a probe token: %w", err)
	}
	p.overhead = len(tok) - base64.RawURLEncoding.EncodedLen(len(raw))
	return nil
}

// fill sets c.Pad so that c's token is size bytes, within 2 (base64 rounds to whole bytes of JSON);
// a token already that big stays as it is.
func (p *tokenPad) fill(c *claims) {
	if p.size <= 0 {
		return
	}
	raw, err := json.Marshal(c) // what jwt signs: json.Marshal of the claims
	if err != nil {
		return
	}
	// The claims segment may hold 3/4 of its base64 length in JSON; the claim adds `,"pad":""` (9
	// bytes) and its value.
	k := (p.size-p.overhead)*3/4 - len(raw) - len(`,"pad":""`)
	if k > 0 {
		c.Pad = strings.Repeat(padByte, k)
	}
}

// padCookie puts padding in front of a sid cookie's session id so that the cookie's value is about
// size bytes (at least the id itself). The id stays at the end, where NGINX's sticky balancer reads
// the node that holds it.
func padCookie(sid string, size int) string {
	if k := size - len(sid) - 1; k > 0 {
		return strings.Repeat(padByte, k) + string(cookiePadSep) + sid
	}
	return sid
}

// unpadCookie is the session id inside a padded sid cookie's value.
func unpadCookie(v string) string {
	if i := strings.LastIndexByte(v, cookiePadSep); i >= 0 {
		return v[i+1:]
	}
	return v
}
