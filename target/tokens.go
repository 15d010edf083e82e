package target

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
)

// claims are what a token carries: who (sub) and which session (sid), plus
// the registered claims that bound where and when it is valid.
type claims struct {
	SessionID string `json:"sid"`
	Pad       string `json:"pad,omitempty"` // TOKEN_PAD_BYTES' filler (pad.go)
	jwt.RegisteredClaims
}

// tokens issues and verifies JWTs. Verification accepts exactly one
// algorithm (the configured one), which is what defeats `alg: none` and
// algorithm confusion (an HS256 token "signed" with an RSA public key).
type tokens struct {
	method   jwt.SigningMethod
	signKey  any
	kid      string
	verify   map[string]any // kid -> verification key; holds the previous key during a rotation
	parser   *jwt.Parser
	issuer   string
	audience string
	ttl      time.Duration
	leeway   time.Duration
	now      func() time.Time
	// cache holds tokens whose signature and claims were verified, keyed by
	// the exact token bytes (signature included, so a changed byte misses).
	// A hit skips the HMAC and the JSON decoding, a quarter of a profile
	// read's CPU; expiry and not-before are still checked on every hit.
	cache *lru.Cache[string, claims]
	pad   tokenPad
	// refreshKeys sign refresh tokens (refresh.go): derived from the signing key (the first) and, during
	// a rotation, from the previous HS256 secret, so that every node checks what any node issued.
	refreshKeys [][]byte
}

// refreshKey derives the key refresh tokens are MACed with from a token-signing key's material: one
// secret, two purposes kept apart by the label.
func refreshKey(material []byte) []byte {
	sum := sha256.Sum256(append([]byte("chaosbench-refresh:"), material...))
	return sum[:]
}

func newTokens(cfg Config, now func() time.Time) (*tokens, error) {
	t := &tokens{
		verify:   map[string]any{},
		issuer:   cfg.TokenIssuer,
		audience: cfg.TokenAudience,
		ttl:      cfg.tokenTTL(),
		leeway:   cfg.TokenLeeway,
		now:      now,
	}
	if cfg.TokenCacheSize > 0 {
		c, err := lru.New[string, claims](cfg.TokenCacheSize)
		if err != nil {
			return nil, fmt.Errorf("TOKEN_CACHE_SIZE: %w", err)
		}
		t.cache = c
	}
	switch cfg.JWTAlg {
	case "HS256":
		t.method = jwt.SigningMethodHS256
		t.signKey = []byte(cfg.JWTSecret)
		t.kid = keyID([]byte(cfg.JWTSecret))
		t.verify[t.kid] = []byte(cfg.JWTSecret)
		t.refreshKeys = [][]byte{refreshKey([]byte(cfg.JWTSecret))}
		if cfg.JWTPreviousSecret != "" {
			t.verify[keyID([]byte(cfg.JWTPreviousSecret))] = []byte(cfg.JWTPreviousSecret)
			t.refreshKeys = append(t.refreshKeys, refreshKey([]byte(cfg.JWTPreviousSecret)))
		}
	case "RS256", "EdDSA":
		key, pub, err := loadPrivateKey(cfg.JWTPrivateKeyFile, cfg.JWTAlg)
		if err != nil {
			return nil, fmt.Errorf("JWT_PRIVATE_KEY_FILE: %w", err)
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("JWT_PRIVATE_KEY_FILE: public key: %w", err)
		}
		t.method = jwt.GetSigningMethod(cfg.JWTAlg)
		t.signKey = key
		t.kid = keyID(der)
		t.verify[t.kid] = pub
		priv, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("JWT_PRIVATE_KEY_FILE: private key: %w", err)
		}
		t.refreshKeys = [][]byte{refreshKey(priv)}
	default:
		return nil, fmt.Errorf("JWT_ALG: %q is not supported", cfg.JWTAlg)
	}
	if err := t.pad.init(t, cfg.TokenPadBytes); err != nil {
		return nil, err
	}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{t.method.Alg()}),
		jwt.WithIssuer(cfg.TokenIssuer),
		jwt.WithAudience(cfg.TokenAudience),
		jwt.WithLeeway(cfg.TokenLeeway),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(now),
	)
	return t, nil
}

// keyID names a key without revealing it: a short hash, sent as `kid` so
// that verification picks the right key during a rotation.
func keyID(material []byte) string {
	sum := sha256.Sum256(append([]byte("chaosbench-kid:"), material...))
	return hex.EncodeToString(sum[:6])
}

func loadPrivateKey(path, alg string) (crypto.Signer, crypto.PublicKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, nil, errors.New("no PEM block found")
	}
	var key any
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		key = k
	} else if k, err2 := x509.ParsePKCS1PrivateKey(block.Bytes); err2 == nil {
		key = k
	} else {
		return nil, nil, fmt.Errorf("parse private key: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if alg != "RS256" {
			return nil, nil, fmt.Errorf("an RSA key needs JWT_ALG=RS256, not %s", alg)
		}
		return k, k.Public(), nil
	case ed25519.PrivateKey:
		if alg != "EdDSA" {
			return nil, nil, fmt.Errorf("an Ed25519 key needs JWT_ALG=EdDSA, not %s", alg)
		}
		return k, k.Public(), nil
	default:
		return nil, nil, fmt.Errorf("unsupported key type %T", key)
	}
}

// issue signs a token for the user's session.
func (t *tokens) issue(userID, sessionID string) (string, error) {
	now := t.now()
	c := claims{
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID,
			Issuer:    t.issuer,
			Audience:  jwt.ClaimStrings{t.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		},
	}
	t.pad.fill(&c)
	return t.sign(c)
}

func (t *tokens) sign(c claims) (string, error) {
	tok := jwt.NewWithClaims(t.method, c)
	tok.Header["kid"] = t.kid
	return tok.SignedString(t.signKey)
}

// parse verifies a token and returns its claims, or an error code that tells
// an expired token apart from any other invalid one.
func (t *tokens) parse(raw string) (*claims, string) {
	if t.cache != nil {
		if c, ok := t.cache.Get(raw); ok {
			now := t.now()
			switch {
			case c.ExpiresAt == nil || !now.Before(c.ExpiresAt.Add(t.leeway)):
				t.cache.Remove(raw)
				return nil, CodeTokenExpired
			case c.NotBefore != nil && now.Add(t.leeway).Before(c.NotBefore.Time):
				return nil, CodeTokenInvalid
			}
			return &c, ""
		}
	}
	var c claims
	_, err := t.parser.ParseWithClaims(raw, &c, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if kid == "" {
			kid = t.kid
		}
		key, ok := t.verify[kid]
		if !ok {
			return nil, errors.New("unknown key id")
		}
		return key, nil
	})
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, CodeTokenExpired
	default:
		return nil, CodeTokenInvalid
	}
	if c.Subject == "" || c.SessionID == "" {
		return nil, CodeTokenInvalid
	}
	if t.cache != nil {
		t.cache.Add(raw, c)
	}
	return &c, ""
}
