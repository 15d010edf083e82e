// Command naiveshop is a second implementation of chaosbench's HTTP contract (docs/contract.md), written
// apart from the reference API (it shares no code with package target) and on purpose in a naive design
// that many real services have:
//
//   - idempotency keys are remembered in the node's own memory, checked and then set around the write, so
//     a retry that lands on another node, or a request that races its own retry, creates a second order;
//   - resource updates are last-write-wins: If-Match is accepted and ignored, so two clients that read the
//     same value both write value+1 and one increment is lost.
//
// Everything else is shared state in Redis, like a stateless service should keep it: users, sessions
// (opaque bearer tokens) and orders. chaosbench's black-box checker and `chaosbench conform` are expected to
// find both flaws here and none in the reference API (examples/README.md).
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// sessionTTL is how long a login lasts; the contract's expires_in says so to the client.
const sessionTTL = 30 * time.Minute

func main() {
	addr := env("ADDR", ":8080")
	node := env("NODE_ID", hostname())
	opt, err := redis.ParseURL(env("REDIS_URL", "redis://127.0.0.1:6379/0"))
	if err != nil {
		log.Fatalf("naiveshop: REDIS_URL: %v", err)
	}
	pay, err := time.ParseDuration(env("PAYMENT_DELAY", "20ms"))
	if err != nil {
		log.Fatalf("naiveshop: PAYMENT_DELAY: %v", err)
	}
	s := &shop{rdb: redis.NewClient(opt), node: node, seen: map[string]stored{}, payment: pay}
	srv := &http.Server{Addr: addr, Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	log.Printf("naiveshop %s listening on %s", node, addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("naiveshop: %v", err)
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

type shop struct {
	rdb  *redis.Client
	node string
	// payment is how long charging the card takes: the downstream call a real shop makes between
	// deciding an order is new and remembering that it was made.
	payment time.Duration

	mu   sync.Mutex
	seen map[string]stored // idempotency key -> first answer, in this node's memory only
}

type stored struct {
	status int
	body   []byte
}

func (s *shop) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.rdb.Ping(r.Context()).Err(); err != nil {
			w.Header().Set("Retry-After", "1")
			fail(w, http.StatusServiceUnavailable, "state_store_unavailable", "redis does not answer")
			return
		}
		reply(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.HandleFunc("POST /v1/users", s.signup)
	mux.HandleFunc("POST /v1/login", s.login)
	mux.HandleFunc("GET /v1/profile", s.auth(s.profile))
	mux.HandleFunc("PUT /v1/cart", s.auth(s.putCart))
	mux.HandleFunc("POST /v1/orders", s.auth(s.createOrder))
	mux.HandleFunc("GET /v1/orders", s.auth(s.listOrders))
	mux.HandleFunc("GET /v1/resources/{id}", s.auth(s.getResource))
	mux.HandleFunc("PATCH /v1/resources/{id}", s.auth(s.patchResource))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Node-Id", s.node)
		mux.ServeHTTP(w, r)
	})
}

func reply(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	reply(w, status, map[string]string{"error": msg, "code": code})
}

// storeDown answers a Redis error: the client may retry.
func storeDown(w http.ResponseWriter, err error) {
	w.Header().Set("Retry-After", "1")
	fail(w, http.StatusServiceUnavailable, "state_store_unavailable", err.Error())
}

func decode(w http.ResponseWriter, r *http.Request, dst any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(dst); err != nil {
		fail(w, http.StatusBadRequest, "bad_request", "body: "+err.Error())
		return false
	}
	return true
}

func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type user struct {
	ID   string `json:"id"`
	Salt string `json:"salt"`
	Hash string `json:"hash"`
}

func hash(salt, password string) string {
	h := sha256.Sum256([]byte(salt + password))
	return hex.EncodeToString(h[:])
}

func (s *shop) signup(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if !decode(w, r, &c) {
		return
	}
	if c.Username == "" || len(c.Password) < 8 {
		fail(w, http.StatusBadRequest, "bad_request", "username and a password of 8 or more bytes are required")
		return
	}
	u := user{ID: token(), Salt: token()}
	u.Hash = hash(u.Salt, c.Password)
	raw, _ := json.Marshal(u)
	ok, err := s.rdb.SetNX(r.Context(), "shop:user:"+c.Username, raw, 0).Result()
	if err != nil {
		storeDown(w, err)
		return
	}
	if !ok {
		fail(w, http.StatusConflict, "username_taken", "username is taken")
		return
	}
	reply(w, http.StatusCreated, map[string]string{"user_id": u.ID, "username": c.Username})
}

func (s *shop) login(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if !decode(w, r, &c) {
		return
	}
	raw, err := s.rdb.Get(r.Context(), "shop:user:"+c.Username).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		storeDown(w, err)
		return
	}
	var u user
	_ = json.Unmarshal([]byte(raw), &u)
	if u.ID == "" || hash(u.Salt, c.Password) != u.Hash {
		fail(w, http.StatusUnauthorized, "invalid_credentials", "wrong username or password")
		return
	}
	tok := token()
	if err := s.rdb.HSet(r.Context(), "shop:session:"+tok, "user_id", u.ID, "username", c.Username, "cart", "[]").Err(); err != nil {
		storeDown(w, err)
		return
	}
	s.rdb.Expire(r.Context(), "shop:session:"+tok, sessionTTL)
	reply(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(sessionTTL.Seconds())})
}

type session struct{ token, userID, username, cart string }

func (s *shop) auth(next func(http.ResponseWriter, *http.Request, session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if len(h) < 8 || h[:7] != "Bearer " {
			fail(w, http.StatusUnauthorized, "credentials_missing", "Authorization: Bearer <token> is required")
			return
		}
		tok := h[7:]
		f, err := s.rdb.HGetAll(r.Context(), "shop:session:"+tok).Result()
		if err != nil {
			storeDown(w, err)
			return
		}
		if f["user_id"] == "" {
			fail(w, http.StatusUnauthorized, "session_not_found", "session not found")
			return
		}
		next(w, r, session{token: tok, userID: f["user_id"], username: f["username"], cart: f["cart"]})
	}
}

func (s *shop) profile(w http.ResponseWriter, _ *http.Request, ss session) {
	reply(w, http.StatusOK, map[string]any{"user_id": ss.userID, "username": ss.username, "cart": json.RawMessage(ss.cart)})
}

type item struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

func (s *shop) putCart(w http.ResponseWriter, r *http.Request, ss session) {
	var in struct {
		Items []item `json:"items"`
	}
	if !decode(w, r, &in) {
		return
	}
	raw, _ := json.Marshal(in.Items)
	if err := s.rdb.HSet(r.Context(), "shop:session:"+ss.token, "cart", raw).Err(); err != nil {
		storeDown(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]any{"cart": json.RawMessage(raw)})
}

// createOrder is the naive idempotency: look the key up in this node's memory, charge the card, write the
// order, then remember the answer. Nothing stops a second request with the same key between the look-up and the
// remembering, and another node never sees this node's memory.
func (s *shop) createOrder(w http.ResponseWriter, r *http.Request, ss session) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		fail(w, http.StatusBadRequest, "idempotency_key_missing", "Idempotency-Key header is required")
		return
	}
	var in struct {
		RequestID string `json:"request_id"`
		Items     []item `json:"items"`
	}
	if !decode(w, r, &in) {
		return
	}
	memo := ss.userID + ":" + key
	s.mu.Lock()
	prev, ok := s.seen[memo]
	s.mu.Unlock()
	if ok {
		w.Header().Set("Idempotent-Replayed", "true")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(prev.status)
		_, _ = w.Write(prev.body)
		return
	}
	time.Sleep(s.payment) // charge the card
	id := token()
	order, _ := json.Marshal(map[string]any{"order_id": id, "request_id": in.RequestID, "items": in.Items,
		"created_by": s.node, "created_at": time.Now().UTC().Format(time.RFC3339Nano)})
	pipe := s.rdb.TxPipeline()
	pipe.Set(r.Context(), "shop:order:"+id, order, 0)
	pipe.RPush(r.Context(), "shop:orders:"+ss.userID, id)
	if _, err := pipe.Exec(r.Context()); err != nil {
		storeDown(w, err)
		return
	}
	s.mu.Lock()
	s.seen[memo] = stored{status: http.StatusCreated, body: order}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(order)
}

func (s *shop) listOrders(w http.ResponseWriter, r *http.Request, ss session) {
	ids, err := s.rdb.LRange(r.Context(), "shop:orders:"+ss.userID, 0, -1).Result()
	if err != nil {
		storeDown(w, err)
		return
	}
	orders := []json.RawMessage{}
	for _, id := range ids {
		raw, err := s.rdb.Get(r.Context(), "shop:order:"+id).Result()
		if err != nil {
			storeDown(w, err)
			return
		}
		orders = append(orders, json.RawMessage(raw))
	}
	reply(w, http.StatusOK, map[string]any{"orders": orders})
}

func (s *shop) getResource(w http.ResponseWriter, r *http.Request, _ session) {
	id := r.PathValue("id")
	f, err := s.rdb.HGetAll(r.Context(), "shop:resource:"+id).Result()
	if err != nil {
		storeDown(w, err)
		return
	}
	value, _ := strconv.ParseInt(f["value"], 10, 64)
	version, _ := strconv.ParseInt(f["version"], 10, 64)
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(version, 10)))
	reply(w, http.StatusOK, map[string]any{"id": id, "value": value})
}

// patchResource is last-write-wins: If-Match is not even read, so the increments of two clients that read
// the same value collapse into one.
func (s *shop) patchResource(w http.ResponseWriter, r *http.Request, _ session) {
	id := r.PathValue("id")
	var in struct {
		Value *int64 `json:"value"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Value == nil {
		fail(w, http.StatusBadRequest, "bad_request", "value is required")
		return
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(r.Context(), "shop:resource:"+id, "value", *in.Value)
	version := pipe.HIncrBy(r.Context(), "shop:resource:"+id, "version", 1)
	if _, err := pipe.Exec(r.Context()); err != nil {
		storeDown(w, err)
		return
	}
	w.Header().Set("ETag", fmt.Sprintf("%q", strconv.FormatInt(version.Val(), 10)))
	reply(w, http.StatusOK, map[string]any{"id": id, "value": *in.Value})
}
