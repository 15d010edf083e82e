package target

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/target/keyspace"
	"github.com/redis/go-redis/v9"
)

// Refresh tokens (ACCESS_TTL > 0). A login starts a family: the session. Its state is two fields of the
// session's own hash, refresh_gen (the generation of the one refresh token that may be used next) and
// refresh_at (when it was issued), so that a family is one key: one Redis Cluster slot whatever the
// layout, and revoking the family is deleting that key, which also ends every access token of the
// session (they name it by sid, and the next request is answered session_not_found).
//
// A refresh token is "rt1.<sid>.<gen>.<mac>", the MAC over "<sid>.<gen>" under a key only the nodes hold.
// Nothing secret is stored: the MAC tells a token we issued from garbage (401 refresh_token_invalid, which
// never touches the family: knowing a sid, which every access token shows, must not let anyone log its
// user out), and the generation tells the token to use next from an ancestor (401 refresh_token_reused,
// and the family is revoked: someone holds a copy). The token of a generation is the same whoever mints
// it, so a replay within REFRESH_GRACE gets the very pair the first presentation got.

const (
	CodeRefreshInvalid = "refresh_token_invalid"
	CodeRefreshReused  = "refresh_token_reused"
)

const refreshPrefix = "rt1."

// refreshMAC is the token's MAC for sid and gen under key: 128 bits, base64url.
func refreshMAC(key []byte, sid string, gen int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(sid + "." + strconv.FormatInt(gen, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// refreshToken is generation gen of sid's family, signed with the current key.
func (t *tokens) refreshToken(sid string, gen int64) string {
	return refreshPrefix + sid + "." + strconv.FormatInt(gen, 10) + "." + refreshMAC(t.refreshKeys[0], sid, gen)
}

// parseRefresh returns the session and generation of a token this service issued, ok false otherwise.
func (t *tokens) parseRefresh(raw string) (sid string, gen int64, ok bool) {
	rest, found := strings.CutPrefix(raw, refreshPrefix)
	if !found {
		return "", 0, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 || parts[0] == "" {
		return "", 0, false
	}
	gen, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || gen < 0 {
		return "", 0, false
	}
	for _, k := range t.refreshKeys {
		if hmac.Equal([]byte(refreshMAC(k, parts[0], gen)), []byte(parts[2])) {
			return parts[0], gen, true
		}
	}
	return "", 0, false
}

// rotateScript is the whole refresh decision, atomic in Redis: two nodes given the same token at once
// run it one after the other, and the second sees the first's rotation. A script rather than
// WATCH/MULTI: one round trip instead of three, and no optimistic retry loop whose loser must read
// again to tell a reuse from a lost race; its key is the session's, so it stays valid in a Cluster.
// KEYS[1] the session; ARGV: presented generation, now (ms), grace (ms). Replies:
//
//	{"missing"}                         no such session (expired, revoked, never existed)
//	{"rotated", gen, user_id, exp_ms}   gen is the new current generation
//	{"replayed", gen, user_id, exp_ms}  the parent of the current one, within the grace: the same answer
//	{"reused"}                          an ancestor: the family is revoked (the session deleted)
//
// A generation above the current one was signed by us, so it was current on some primary: a rotation an
// asynchronous failover lost. It is taken as current, not as an attack.
var rotateScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'refresh_gen', 'refresh_at', 'user_id', 'expires_at')
if not h[1] then return {'missing'} end
local cur, g, now = tonumber(h[1]), tonumber(ARGV[1]), tonumber(ARGV[2])
local grace = tonumber(ARGV[3])
if g >= cur then
  redis.call('HSET', KEYS[1], 'refresh_gen', g + 1, 'refresh_at', now)
  return {'rotated', tostring(g + 1), h[3], h[4]}
end
if g == cur - 1 and grace > 0 and now - tonumber(h[2]) <= grace then
  return {'replayed', tostring(cur), h[3], h[4]}
end
redis.call('DEL', KEYS[1])
return {'reused'}`)

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// refresh: POST /v1/refresh trades a refresh token for a new access token and the family's next
// refresh token.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	var in refreshRequest
	if !decodeJSON(w, r, s.cfg.MaxBodyBytes, &in) {
		return
	}
	if in.RefreshToken == "" {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "refresh_token is required")
		return
	}
	sid, gen, ok := s.tokens.parseRefresh(in.RefreshToken)
	if !ok {
		s.metrics.refreshes.WithLabelValues("invalid").Inc()
		writeError(w, http.StatusUnauthorized, CodeRefreshInvalid, "refresh token is invalid")
		return
	}
	now := s.now()
	var reply []any
	err := s.st.do(r.Context(), "session.refresh", func(ctx context.Context) (err error) {
		v, err := rotateScript.Run(ctx, s.st.rdb, []string{keyspace.Session + sid},
			gen, now.UnixMilli(), s.cfg.RefreshGrace.Milliseconds()).Result()
		reply, _ = v.([]any)
		return err
	})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	str := func(i int) string {
		if i < len(reply) {
			v, _ := reply[i].(string)
			return v
		}
		return ""
	}
	outcome := str(0)
	s.metrics.refreshes.WithLabelValues(outcome).Inc()
	switch outcome {
	case "missing":
		s.sessionNotFound(w)
		return
	case "reused":
		s.log.Warn("refresh token reused: family revoked", "session", sid, "generation", gen)
		writeError(w, http.StatusUnauthorized, CodeRefreshReused, "refresh token was already used: every token of this login is revoked")
		return
	case "rotated", "replayed":
	default:
		s.internal(w, r, "refresh", errUnexpectedReply(reply))
		return
	}
	next, _ := strconv.ParseInt(str(1), 10, 64)
	expMS, _ := strconv.ParseInt(str(3), 10, 64)
	access, err := s.tokens.issue(str(2), sid)
	if err != nil {
		s.internal(w, r, "sign token", err)
		return
	}
	out := s.tokenAnswer(access, sid, next, time.UnixMilli(expMS), now)
	out["session_id"] = sid
	writeJSON(w, http.StatusOK, out)
}

// tokenAnswer is what login and refresh answer in refresh mode beside the session: the access token and
// the family's refresh token of generation gen, which lives until the session ends (exp).
func (s *Server) tokenAnswer(access, sid string, gen int64, exp, now time.Time) map[string]any {
	return map[string]any{
		"access_token":       access,
		"token_type":         "Bearer",
		"expires_in":         int(s.cfg.tokenTTL() / time.Second),
		"refresh_token":      s.tokens.refreshToken(sid, gen),
		"refresh_expires_in": int(exp.Sub(now) / time.Second),
		"expires_at":         exp.UTC().Format(time.RFC3339),
	}
}

type errUnexpectedReply []any

func (e errUnexpectedReply) Error() string { return "unexpected script reply" }
