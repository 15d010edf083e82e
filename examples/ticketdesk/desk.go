package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Redis keys, all under td: so that one Redis can hold the desk beside other things.
const (
	keyAccount = "td:account:" // + login -> JSON {id, salt, hash}
	keySession = "td:session:" // + token -> hash {account_id, login}, expires after the session TTL
	keyTicket  = "td:ticket:"  // + ticket id -> the ticket's JSON
	keyIndex   = "td:tickets:" // + account id -> sorted set of ticket ids, scored by keySeq's number
	keySeq     = "td:seq:"     // + account id -> the last ticket number given in that account
	keyDedupe  = "td:dedupe:"  // + account id + ":" + request token -> fingerprint "\n" first answer
	keyCounter = "td:counter:" // + name -> hash {count, revision}
)

const (
	maxBody      = 64 << 10
	defaultLimit = 20
	maxLimit     = 100
)

// desk is the service: one per node. Everything it keeps is in Redis except, in flawed mode, seen.
type desk struct {
	rdb *redis.Client
	cfg config

	mu   sync.Mutex
	seen map[string]memo // flawed mode only: account id + request token -> first answer, this node's memory
}

type memo struct {
	fingerprint string
	body        []byte
}

func newDesk(rdb *redis.Client, cfg config) *desk {
	return &desk{rdb: rdb, cfg: cfg, seen: map[string]memo{}}
}

func (d *desk) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", d.health)
	mux.HandleFunc("POST /api/v2/accounts", d.register)
	mux.HandleFunc("POST /api/v2/sessions", d.login)
	mux.HandleFunc("GET /api/v2/sessions/current", d.auth(d.whoami))
	mux.HandleFunc("DELETE /api/v2/sessions/current", d.auth(d.logout))
	mux.HandleFunc("POST /api/v2/tickets", d.auth(d.createTicket))
	mux.HandleFunc("GET /api/v2/tickets", d.auth(d.listTickets))
	mux.HandleFunc("GET /api/v2/counters/{name}", d.auth(d.getCounter))
	mux.HandleFunc("PUT /api/v2/counters/{name}", d.auth(d.putCounter))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "no-such-route", r.Method+" "+r.URL.Path+" is not an endpoint of ticketdesk")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-By", d.cfg.node)
		mux.ServeHTTP(w, r)
	})
}

// --- replies ------------------------------------------------------------------------------------------

func reply(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	raw(w, status, b)
}

func raw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// problem writes an error in the problem+json style (RFC 9457's spirit, with a short machine name in
// "problem" instead of a type URI): {"problem": "unknown-session", "status": 401, "detail": "..."}.
func problem(w http.ResponseWriter, status int, name, detail string) {
	b, _ := json.Marshal(map[string]any{"problem": name, "status": status, "detail": detail})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// storeDown answers a Redis error: nothing is known to have happened, and the client may retry.
func storeDown(w http.ResponseWriter, err error) {
	w.Header().Set("Retry-After", "1")
	problem(w, http.StatusServiceUnavailable, "store-unavailable", err.Error())
}

func decode(w http.ResponseWriter, r *http.Request, dst any) bool {
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(dst)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		problem(w, http.StatusRequestEntityTooLarge, "body-too-large", "the body is larger than 64 KiB")
		return false
	case err != nil:
		problem(w, http.StatusBadRequest, "bad-body", "body: "+err.Error())
		return false
	}
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// --- health -------------------------------------------------------------------------------------------

func (d *desk) health(w http.ResponseWriter, r *http.Request) {
	if err := d.rdb.Ping(r.Context()).Err(); err != nil {
		storeDown(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]string{"status": "ready", "node": d.cfg.node, "mode": string(d.cfg.mode)})
}

// --- accounts and sessions ----------------------------------------------------------------------------

var loginName = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,128}$`)

func (d *desk) register(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if !decode(w, r, &in) {
		return
	}
	if !loginName.MatchString(in.Login) || len(in.Password) < 8 {
		problem(w, http.StatusBadRequest, "bad-account",
			"login: 1-128 of A-Z a-z 0-9 . _ @ + -; password: 8 bytes or more")
		return
	}
	a := account{ID: "acc_" + randomHex(8), Salt: randomHex(16)}
	a.Hash = digest(a.Salt, in.Password)
	b, _ := json.Marshal(a)
	ok, err := d.rdb.SetNX(r.Context(), keyAccount+in.Login, b, 0).Result()
	if err != nil {
		storeDown(w, err)
		return
	}
	if !ok {
		problem(w, http.StatusConflict, "login-taken", "an account with this login exists")
		return
	}
	reply(w, http.StatusCreated, map[string]string{"account_id": a.ID, "login": in.Login})
}

// login takes HTTP Basic credentials and opens a session: an opaque token, sent back as X-Session-Token.
func (d *desk) login(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="ticketdesk"`)
		problem(w, http.StatusUnauthorized, "credentials-required", "Authorization: Basic <login:password> is required")
		return
	}
	b, err := d.rdb.Get(r.Context(), keyAccount+user).Bytes()
	if err != nil && !errors.Is(err, redis.Nil) {
		storeDown(w, err)
		return
	}
	var a account
	_ = json.Unmarshal(b, &a)
	if a.Hash == "" || digest(a.Salt, pass) != a.Hash {
		w.Header().Set("WWW-Authenticate", `Basic realm="ticketdesk"`)
		problem(w, http.StatusUnauthorized, "bad-credentials", "wrong login or password")
		return
	}
	tok := randomHex(20)
	pipe := d.rdb.TxPipeline()
	pipe.HSet(r.Context(), keySession+tok, "account_id", a.ID, "login", user)
	pipe.Expire(r.Context(), keySession+tok, d.cfg.sessionTTL)
	if _, err := pipe.Exec(r.Context()); err != nil {
		storeDown(w, err)
		return
	}
	reply(w, http.StatusCreated, map[string]any{"session_token": tok, "expires_in": int(d.cfg.sessionTTL.Seconds())})
}

// account is stored whole under its login, so that registering is one SET NX.
type account struct {
	ID   string `json:"id"`
	Salt string `json:"salt"`
	Hash string `json:"hash"`
}

type session struct{ token, accountID, login string }

// auth resolves X-Session-Token: 401 session-required without it, 401 unknown-session when Redis does not
// know it (expired, logged out, or never issued).
func (d *desk) auth(next func(http.ResponseWriter, *http.Request, session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-Session-Token")
		if tok == "" {
			problem(w, http.StatusUnauthorized, "session-required", "X-Session-Token is required")
			return
		}
		f, err := d.rdb.HGetAll(r.Context(), keySession+tok).Result()
		if err != nil {
			storeDown(w, err)
			return
		}
		if f["account_id"] == "" {
			problem(w, http.StatusUnauthorized, "unknown-session", "this session token is not known")
			return
		}
		next(w, r, session{token: tok, accountID: f["account_id"], login: f["login"]})
	}
}

func (d *desk) whoami(w http.ResponseWriter, r *http.Request, s session) {
	ttl, err := d.rdb.TTL(r.Context(), keySession+s.token).Result()
	if err != nil {
		storeDown(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]any{"account_id": s.accountID, "login": s.login, "expires_in": int(ttl.Seconds())})
}

func (d *desk) logout(w http.ResponseWriter, r *http.Request, s session) {
	if err := d.rdb.Del(r.Context(), keySession+s.token).Err(); err != nil {
		storeDown(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
