package target

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/chaosbench/chaosbench/target/keyspace"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
)

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type storedUser struct {
	ID           string `json:"id"`
	PasswordHash string `json:"password_hash"`
	CreatedAt    int64  `json:"created_at"`
}

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

func (c credentials) validate() string {
	switch {
	case !usernameRE.MatchString(c.Username):
		return "username must be 1-64 characters of letters, digits and _.@-"
	case len(c.Password) < 8 || len(c.Password) > 72:
		// 72 is bcrypt's limit: longer passwords would be silently truncated.
		return "password must be 8-72 bytes"
	}
	return ""
}

// signup: POST /v1/users. Users always live in Redis, whatever the session
// mode: they are persistent state, not session state.
func (s *Server) signup(w http.ResponseWriter, r *http.Request) {
	var in credentials
	if !decodeJSON(w, r, s.cfg.MaxBodyBytes, &in) {
		return
	}
	if msg := in.validate(); msg != "" {
		writeError(w, http.StatusBadRequest, CodeBadRequest, msg)
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), s.cfg.BcryptCost)
	if err != nil {
		s.internal(w, r, "hash password", err)
		return
	}
	u := storedUser{ID: uuid.NewString(), PasswordHash: string(hash), CreatedAt: s.now().UnixMilli()}
	raw, _ := json.Marshal(u)
	var created bool
	err = s.st.do(r.Context(), "user.create", func(ctx context.Context) (err error) {
		created, err = s.st.rdb.SetNX(ctx, keyspace.User+in.Username, raw, 0).Result()
		return err
	})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if !created {
		writeError(w, http.StatusConflict, CodeUsernameTaken, "username is taken")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"user_id": u.ID, "username": in.Username})
}

// login: POST /v1/login. Creates a session and returns a JWT (jwt mode) or
// sets the sid cookie (cookie mode).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in credentials
	if !decodeJSON(w, r, s.cfg.MaxBodyBytes, &in) {
		return
	}
	var raw string
	err := s.st.do(r.Context(), "user.get", func(ctx context.Context) (err error) {
		raw, err = s.st.rdb.Get(ctx, keyspace.User+in.Username).Result()
		return err
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		s.storeError(w, r, err)
		return
	}
	var u storedUser
	if err == nil {
		_ = json.Unmarshal([]byte(raw), &u)
	}
	// Compare even for an unknown user, so that timing does not tell which
	// usernames exist.
	hash := u.PasswordHash
	if hash == "" {
		hash = s.dummyHash
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(in.Password)) != nil || u.ID == "" {
		writeError(w, http.StatusUnauthorized, CodeInvalidCredentials, "wrong username or password")
		return
	}
	now := s.now()
	sid := newSessionID()
	if s.cfg.Auth == AuthCookie {
		// The id names the node that created the session (like a servlet container's jvmRoute), so that
		// a sticky balancer can send the session back to it (target/stack's nginx.conf does).
		sid += "." + s.cfg.NodeID
	}
	sess := session{
		ID: sid, UserID: u.ID, Username: in.Username,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL), Cart: []item{},
		Refresh: s.cfg.AccessTTL > 0,
	}
	if err := s.sessions.create(r.Context(), sess); err != nil {
		s.storeError(w, r, err)
		return
	}
	out := map[string]any{
		"session_id": sess.ID,
		"expires_in": int(s.cfg.SessionTTL / time.Second),
		"expires_at": sess.ExpiresAt.UTC().Format(time.RFC3339),
	}
	if s.cfg.Auth == AuthJWT {
		tok, err := s.tokens.issue(u.ID, sess.ID)
		if err != nil {
			s.internal(w, r, "sign token", err)
			return
		}
		out["access_token"] = tok
		out["token_type"] = "Bearer"
		out["expires_in"] = int(s.cfg.tokenTTL() / time.Second)
		if sess.Refresh {
			maps.Copy(out, s.tokenAnswer(tok, sess.ID, 0, sess.ExpiresAt, now))
		}
	} else {
		val := sess.ID
		if s.cfg.TokenPadBytes > 0 {
			val = padCookie(sess.ID, s.cfg.TokenPadBytes)
		}
		http.SetCookie(w, &http.Cookie{
			Name: "sid", Value: val, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
			MaxAge: int(s.cfg.SessionTTL / time.Second),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// newSessionID returns 128 bits from crypto/rand: unguessable, since in
// cookie mode the id alone is the credential.
func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

type ctxKey struct{}

// authenticated resolves the caller's session and passes it to next. The
// 401 codes tell apart a bad token, an expired one and a valid token whose
// session is gone: the last one is what the checker counts as a lost session.
func (s *Server) authenticated(next func(http.ResponseWriter, *http.Request, session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var sid, sub string
		switch s.cfg.Auth {
		case AuthJWT:
			h := r.Header.Get("Authorization")
			raw, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || raw == "" {
				writeError(w, http.StatusUnauthorized, CodeCredentialsMissing, "Authorization: Bearer <token> is required")
				return
			}
			c, code := s.tokens.parse(raw)
			if code != "" {
				msg := "token is invalid"
				if code == CodeTokenExpired {
					msg = "token has expired"
				}
				writeError(w, http.StatusUnauthorized, code, msg)
				return
			}
			sid, sub = c.SessionID, c.Subject
		case AuthCookie:
			ck, err := r.Cookie("sid")
			if err != nil || ck.Value == "" {
				writeError(w, http.StatusUnauthorized, CodeCredentialsMissing, "the sid cookie is required")
				return
			}
			sid = ck.Value
			if s.cfg.TokenPadBytes > 0 {
				sid = unpadCookie(sid)
			}
		}
		sess, found, err := s.sessions.get(r.Context(), sid)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		if !found {
			s.sessionNotFound(w)
			return
		}
		if sub != "" && sess.UserID != sub {
			writeError(w, http.StatusUnauthorized, CodeTokenInvalid, "token does not match its session")
			return
		}
		next(w, r, sess)
	}
}

// sessionNotFound answers a valid credential whose session is gone: the
// lost session the checker counts (and the metric an operator watches).
func (s *Server) sessionNotFound(w http.ResponseWriter) {
	s.metrics.sessionsMissing.Inc()
	writeError(w, http.StatusUnauthorized, CodeSessionNotFound, "session not found")
}

// sessionOut is the session as the API shows it (a struct, not a map: it is
// encoded on every profile read).
type sessionOut struct {
	UserID      string `json:"user_id"`
	Username    string `json:"username"`
	SessionID   string `json:"session_id"`
	Cart        []item `json:"cart"`
	CartVersion int64  `json:"cart_version"`
	ExpiresAt   string `json:"expires_at"`
}

func sessionView(s session) sessionOut {
	cart := s.Cart
	if cart == nil {
		cart = []item{}
	}
	return sessionOut{UserID: s.UserID, Username: s.Username, SessionID: s.ID, Cart: cart,
		CartVersion: s.CartVersion, ExpiresAt: s.ExpiresAt.UTC().Format(time.RFC3339)}
}

// profile: GET /v1/profile.
func (s *Server) profile(w http.ResponseWriter, _ *http.Request, sess session) {
	writeJSON(w, http.StatusOK, sessionView(sess))
}

type cartRequest struct {
	Items []item `json:"items"`
}

// putCart: PUT /v1/cart replaces the session's cart.
func (s *Server) putCart(w http.ResponseWriter, r *http.Request, sess session) {
	var in cartRequest
	if !decodeJSON(w, r, s.cfg.MaxBodyBytes, &in) {
		return
	}
	if msg := validateItems(in.Items, true); msg != "" {
		writeError(w, http.StatusBadRequest, CodeBadRequest, msg)
		return
	}
	if in.Items == nil {
		in.Items = []item{}
	}
	updated, found, err := s.sessions.setCart(r.Context(), sess.ID, in.Items)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if !found {
		s.sessionNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"cart": updated.Cart, "cart_version": updated.CartVersion})
}

func validateItems(items []item, allowEmpty bool) string {
	if len(items) == 0 && !allowEmpty {
		return "items must not be empty"
	}
	if len(items) > 100 {
		return "at most 100 items"
	}
	for _, it := range items {
		if it.SKU == "" || len(it.SKU) > 64 {
			return "every item needs a sku of 1-64 characters"
		}
		if it.Qty < 1 || it.Qty > 1000 {
			return "every item needs a qty of 1-1000"
		}
	}
	return ""
}
