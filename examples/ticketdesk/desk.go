package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

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

// --- tickets ------------------------------------------------------------------------------------------

// ticket is what the desk stores and lists. RequestToken is the X-Request-Token it was filed with, so that
// a checker reading the listing can count the tickets of each token.
type ticket struct {
	ID           string `json:"id"`
	Subject      string `json:"subject"`
	Priority     int    `json:"priority"`
	RequestToken string `json:"request_token"`
	Account      string `json:"account"`
	ServedBy     string `json:"served_by"`
	CreatedAt    string `json:"created_at"`
}

// fileTicket stores a ticket, its place in the account's index and, when KEYS[1] is not empty, the request
// token's first answer, in one step: a replay (or a racing duplicate) finds the answer and stores nothing.
//
//	KEYS: dedupe key (or ""), sequence key, index key, ticket key
//	ARGV: fingerprint, ticket id, ticket JSON, dedupe TTL in seconds
//	returns {1, JSON} when filed, {0, fingerprint "\n" first JSON} when the token was seen.
var fileTicket = redis.NewScript(`
if KEYS[1] ~= "" then
  local prev = redis.call("GET", KEYS[1])
  if prev then return {0, prev} end
end
local n = redis.call("INCR", KEYS[2])
redis.call("SET", KEYS[4], ARGV[3])
redis.call("ZADD", KEYS[3], n, ARGV[2])
if KEYS[1] ~= "" then
  redis.call("SET", KEYS[1], ARGV[1] .. "\n" .. ARGV[3], "EX", ARGV[4])
end
return {1, ARGV[3]}
`)

func (d *desk) createTicket(w http.ResponseWriter, r *http.Request, s session) {
	token := r.Header.Get("X-Request-Token")
	if token == "" || len(token) > 200 {
		problem(w, http.StatusBadRequest, "request-token-required", "X-Request-Token (1-200 bytes) is required")
		return
	}
	var in struct {
		Subject  string `json:"subject"`
		Priority int    `json:"priority"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Subject == "" || in.Priority < 1 || in.Priority > 5 {
		problem(w, http.StatusUnprocessableEntity, "bad-ticket", "subject is required and priority is 1 to 5")
		return
	}
	fp := digest(in.Subject, strconv.Itoa(in.Priority))
	memoKey := s.accountID + ":" + token

	if d.cfg.mode == Flawed {
		// The flaw: the token is looked up in this node's memory only. Another node never saw it, and a
		// second request between this look-up and the remembering below is not stopped either.
		d.mu.Lock()
		prev, ok := d.seen[memoKey]
		d.mu.Unlock()
		if ok {
			d.replay(w, fp, prev.fingerprint, prev.body)
			return
		}
	}

	time.Sleep(d.cfg.triage) // route the ticket to a queue: the downstream call a real desk makes
	t := ticket{ID: "T-" + randomHex(8), Subject: in.Subject, Priority: in.Priority, RequestToken: token,
		Account: s.login, ServedBy: d.cfg.node, CreatedAt: time.Now().UTC().Format(time.RFC3339Nano)}
	body, _ := json.Marshal(t)
	dedupe := ""
	if d.cfg.mode == Correct {
		dedupe = keyDedupe + memoKey
	}
	res, err := fileTicket.Run(r.Context(), d.rdb,
		[]string{dedupe, keySeq + s.accountID, keyIndex + s.accountID, keyTicket + t.ID},
		fp, t.ID, body, int(d.cfg.dedupeTTL.Seconds())).Slice()
	if err != nil {
		storeDown(w, err)
		return
	}
	if filed, _ := res[0].(int64); filed == 0 {
		prev, _ := res[1].(string)
		pfp, pbody, _ := strings.Cut(prev, "\n")
		d.replay(w, fp, pfp, []byte(pbody))
		return
	}
	if d.cfg.mode == Flawed {
		d.mu.Lock()
		d.seen[memoKey] = memo{fingerprint: fp, body: body}
		d.mu.Unlock()
	}
	raw(w, http.StatusCreated, body)
}

// replay answers a request token seen before: the first answer again, or 422 when the token now comes with
// another ticket.
func (d *desk) replay(w http.ResponseWriter, fp, prevFP string, body []byte) {
	if fp != prevFP {
		problem(w, http.StatusUnprocessableEntity, "request-token-reused",
			"this X-Request-Token was used for another ticket")
		return
	}
	w.Header().Set("X-Request-Replayed", "true")
	raw(w, http.StatusCreated, body)
}

// listTickets pages through the account's tickets in filing order. The cursor is opaque to clients (the
// number of the last ticket of the previous page); next_cursor is null on the last page.
func (d *desk) listTickets(w http.ResponseWriter, r *http.Request, s session) {
	q := r.URL.Query()
	limit := defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			problem(w, http.StatusBadRequest, "bad-limit", "limit is 1 to 100")
			return
		}
		limit = n
	}
	after := int64(0)
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 36, 64)
		if err != nil || n < 0 {
			problem(w, http.StatusBadRequest, "bad-cursor", "cursor is not one this service gave")
			return
		}
		after = n
	}
	zs, err := d.rdb.ZRangeByScoreWithScores(r.Context(), keyIndex+s.accountID, &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(after, 10), Max: "+inf", Count: int64(limit) + 1}).Result()
	if err != nil {
		storeDown(w, err)
		return
	}
	var next any // null on the last page
	if len(zs) > limit {
		zs = zs[:limit]
		next = strconv.FormatInt(int64(zs[limit-1].Score), 36)
	}
	tickets := make([]json.RawMessage, 0, len(zs))
	if len(zs) > 0 {
		keys := make([]string, len(zs))
		for i, z := range zs {
			keys[i] = keyTicket + z.Member.(string)
		}
		vals, err := d.rdb.MGet(r.Context(), keys...).Result()
		if err != nil {
			storeDown(w, err)
			return
		}
		for _, v := range vals {
			if s, ok := v.(string); ok {
				tickets = append(tickets, json.RawMessage(s))
			}
		}
	}
	reply(w, http.StatusOK, map[string]any{"tickets": tickets, "next_cursor": next})
}

// --- counters -----------------------------------------------------------------------------------------

var counterName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

type counter struct {
	Name     string `json:"name"`
	Count    int64  `json:"count"`
	Revision int64  `json:"revision"`
}

func etag(revision int64) string { return `"r` + strconv.FormatInt(revision, 10) + `"` }

// revisionOf reads an If-Match this service gave: `"r7"` is 7; anything else matches no revision.
func revisionOf(ifMatch string) (int64, bool) {
	v, ok := strings.CutPrefix(strings.TrimSpace(ifMatch), `"r`)
	if !ok {
		return 0, false
	}
	v, ok = strings.CutSuffix(v, `"`)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

func (d *desk) counterName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if !counterName.MatchString(name) {
		problem(w, http.StatusBadRequest, "bad-counter-name", "a counter name is 1-64 of A-Z a-z 0-9 . _ -")
		return "", false
	}
	return name, true
}

func (d *desk) getCounter(w http.ResponseWriter, r *http.Request, _ session) {
	name, ok := d.counterName(w, r)
	if !ok {
		return
	}
	vals, err := d.rdb.HMGet(r.Context(), keyCounter+name, "count", "revision").Result()
	if err != nil {
		storeDown(w, err)
		return
	}
	c := counter{Name: name}
	if v, ok := vals[0].(string); ok {
		c.Count, _ = strconv.ParseInt(v, 10, 64)
	}
	if v, ok := vals[1].(string); ok {
		c.Revision, _ = strconv.ParseInt(v, 10, 64)
	}
	w.Header().Set("ETag", etag(c.Revision))
	reply(w, http.StatusOK, c)
}

// setIfRevision is the compare-and-set of a counter: it writes only when the stored revision is the one the
// client read.
//
//	KEYS: counter key; ARGV: expected revision, new count
//	returns {1, new revision} when written, {0, current revision, current count} when stale.
var setIfRevision = redis.NewScript(`
local cur = redis.call("HMGET", KEYS[1], "count", "revision")
local rev = tonumber(cur[2] or "0")
if rev ~= tonumber(ARGV[1]) then return {0, rev, cur[1] or "0"} end
redis.call("HSET", KEYS[1], "count", ARGV[2], "revision", rev + 1)
return {1, rev + 1}
`)

func (d *desk) putCounter(w http.ResponseWriter, r *http.Request, _ session) {
	name, ok := d.counterName(w, r)
	if !ok {
		return
	}
	ifMatch := r.Header.Get("If-Match")
	if d.cfg.mode == Correct && ifMatch == "" {
		problem(w, http.StatusPreconditionRequired, "if-match-required",
			"PUT needs If-Match with the ETag of the counter as read")
		return
	}
	var in struct {
		Count *int64 `json:"count"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Count == nil {
		problem(w, http.StatusBadRequest, "bad-body", "count is required")
		return
	}
	key := keyCounter + name
	if d.cfg.mode == Flawed {
		// The flaw: If-Match is not read at all. Two clients that read the same count both write count+1,
		// and one increment is lost.
		pipe := d.rdb.TxPipeline()
		pipe.HSet(r.Context(), key, "count", *in.Count)
		rev := pipe.HIncrBy(r.Context(), key, "revision", 1)
		if _, err := pipe.Exec(r.Context()); err != nil {
			storeDown(w, err)
			return
		}
		w.Header().Set("ETag", etag(rev.Val()))
		reply(w, http.StatusOK, counter{Name: name, Count: *in.Count, Revision: rev.Val()})
		return
	}
	want, ok := revisionOf(ifMatch)
	if !ok {
		want = -1 // matches no revision: 412 below, with the current ETag
	}
	res, err := setIfRevision.Run(r.Context(), d.rdb, []string{key}, want, *in.Count).Slice()
	if err != nil {
		storeDown(w, err)
		return
	}
	rev, _ := res[1].(int64)
	w.Header().Set("ETag", etag(rev))
	if written, _ := res[0].(int64); written == 0 {
		problem(w, http.StatusPreconditionFailed, "stale-revision",
			"the counter changed since it was read (If-Match "+ifMatch+", now "+etag(rev)+"): read it again")
		return
	}
	reply(w, http.StatusOK, counter{Name: name, Count: *in.Count, Revision: rev})
}
