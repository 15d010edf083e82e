package target

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

type orderRequest struct {
	RequestID string `json:"request_id"`
	Items     []item `json:"items"`
}

// order is what is stored and returned. It records the idempotency key and
// request_id even with idempotency off, so that duplicates can be counted.
type order struct {
	OrderID        string `json:"order_id"`
	RequestID      string `json:"request_id"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	UserID         string `json:"user_id"`
	Items          []item `json:"items"`
	CreatedAt      string `json:"created_at"`
	CreatedBy      string `json:"created_by"`
}

// claimScript takes an Idempotency-Key. Outcomes:
//
//	{"claimed"}                 first request: a "processing" marker is set with a lease
//	{"mismatch"}                same key, another payload -> 422
//	{"in_flight"}               same key still being processed -> 409
//	{"done", status, body}      same key completed -> replay
var claimScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then
  redis.call('HSET', KEYS[1], 'state', 'processing', 'fp', ARGV[2], 'owner', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'claimed'}
end
if redis.call('HGET', KEYS[1], 'fp') ~= ARGV[2] then return {'mismatch'} end
if st == 'processing' then return {'in_flight'} end
return {'done', redis.call('HGET', KEYS[1], 'status'), redis.call('HGET', KEYS[1], 'body')}`)

// commitScript writes the order, its indexes and the stored response in one
// atomic step, and only while this request still owns the key's lease: no
// crash point can leave an order without the response that replays it, and
// two requests can never both commit for one key.
// KEYS: idem, order, user list, request index, key index.
// ARGV: owner, order JSON, order id, status, body, ttl ms.
var commitScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'state') ~= 'processing' then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[3])
redis.call('RPUSH', KEYS[4], ARGV[3])
redis.call('RPUSH', KEYS[5], ARGV[3])
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[4], 'body', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1`)

// plainScript writes an order without idempotency (the weaker design).
// KEYS: order, user list, request index, key index (may be a dummy when no key).
var plainScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[2])
if ARGV[3] == '1' then redis.call('RPUSH', KEYS[4], ARGV[2]) end
return 1`)

func idempotencyKey(r *http.Request) string {
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		return k
	}
	return r.Header.Get("X-Idempotency-Key")
}

func validKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// fingerprint identifies a request's payload independent of JSON spacing
// and field order: the re-encoded decoded body, plus method and path.
func fingerprint(r *http.Request, in orderRequest) string {
	b, _ := json.Marshal(in)
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// createOrder: POST /v1/orders.
func (s *Server) createOrder(w http.ResponseWriter, r *http.Request, sess session) {
	var in orderRequest
	if !decodeJSON(w, r, s.cfg.MaxBodyBytes, &in) {
		return
	}
	if in.RequestID == "" || len(in.RequestID) > 128 {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "request_id of 1-128 characters is required")
		return
	}
	if msg := validateItems(in.Items, false); msg != "" {
		writeError(w, http.StatusBadRequest, CodeBadRequest, msg)
		return
	}
	key := idempotencyKey(r)
	if key != "" && !validKey(key) {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "Idempotency-Key must be 1-255 visible ASCII characters")
		return
	}
	now := s.now()
	o := order{
		OrderID: uuid.NewString(), RequestID: in.RequestID, IdempotencyKey: key, UserID: sess.UserID,
		Items: in.Items, CreatedAt: now.UTC().Format(time.RFC3339Nano), CreatedBy: s.cfg.NodeID,
	}
	stored, _ := json.Marshal(o)
	body, _ := json.Marshal(map[string]any{
		"order_id": o.OrderID, "request_id": o.RequestID, "items": o.Items,
		"created_at": o.CreatedAt, "created_by": o.CreatedBy,
	})
	keys := func(idem string) []string {
		ks := []string{}
		if idem != "" {
			ks = append(ks, idem)
		}
		// Every key carries the user's hash tag: one script's keys must share a slot on a Redis Cluster.
		keyIdx := s.st.keys.OrderByKeyKey(sess.UserID, key)
		if key == "" {
			keyIdx = s.st.keys.OrderByKeyKey(sess.UserID, "-") // unused placeholder: scripts must declare every key
		}
		return append(ks, s.st.keys.OrderKey(sess.UserID, o.OrderID), s.st.keys.UserOrdersKey(sess.UserID),
			s.st.keys.OrderByRequestKey(sess.UserID, in.RequestID), keyIdx)
	}

	if s.pg != nil { // STORE=postgres: orders live in PostgreSQL (pgorders.go)
		s.createOrderPG(w, r, sess, in, o, stored, body)
		return
	}
	if !s.cfg.Idempotency {
		hasKey := "0"
		if key != "" {
			hasKey = "1"
		}
		err := s.st.do(r.Context(), "order.create", func(ctx context.Context) error {
			return plainScript.Run(ctx, s.st.rdb, keys(""), stored, o.OrderID, hasKey).Err()
		})
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		s.metrics.ordersCreated.Inc()
		writeRaw(w, http.StatusCreated, body)
		return
	}

	if key == "" {
		writeError(w, http.StatusBadRequest, CodeIdempotencyMissing, "Idempotency-Key header is required")
		return
	}
	idem := s.st.keys.IdempotencyKey(sess.UserID, key)
	owner := uuid.NewString()
	var claim []any
	err := s.st.do(r.Context(), "idempotency.claim", func(ctx context.Context) (err error) {
		v, err := claimScript.Run(ctx, s.st.rdb, []string{idem}, owner, fingerprint(r, in), s.cfg.IdempotencyLease.Milliseconds()).Result()
		claim, _ = v.([]any)
		return err
	})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	outcome, _ := claim[0].(string)
	switch outcome {
	case "mismatch":
		s.metrics.idemConflicts.WithLabelValues("payload_mismatch").Inc()
		writeError(w, http.StatusUnprocessableEntity, CodeIdempotencyReused, "Idempotency-Key was used with another payload")
		return
	case "in_flight":
		s.metrics.idemConflicts.WithLabelValues("in_flight").Inc()
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusConflict, CodeIdempotencyInFlight, "a request with this Idempotency-Key is still being processed")
		return
	case "done":
		status, _ := strconv.Atoi(claim[1].(string))
		s.metrics.replays.Inc()
		w.Header().Set("Idempotent-Replayed", "true")
		writeRaw(w, status, []byte(claim[2].(string)))
		return
	}

	var committed int64
	err = s.st.do(r.Context(), "order.commit", func(ctx context.Context) (err error) {
		committed, err = commitScript.Run(ctx, s.st.rdb, keys(idem),
			owner, stored, o.OrderID, http.StatusCreated, body, s.cfg.IdempotencyTTL.Milliseconds()).Int64()
		return err
	})
	if err != nil {
		// The commit may or may not have happened; either way the key now
		// answers a retry correctly (replay, or a fresh claim after the lease).
		s.storeError(w, r, err)
		return
	}
	if committed == 0 {
		// Our lease expired and another request took the key over.
		s.metrics.idemConflicts.WithLabelValues("in_flight").Inc()
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusConflict, CodeIdempotencyInFlight, "the Idempotency-Key lease expired while processing")
		return
	}
	s.metrics.ordersCreated.Inc()
	writeRaw(w, http.StatusCreated, body)
}

// listOrders: GET /v1/orders returns the caller's orders, oldest first
// (at most the newest 1000).
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request, sess session) {
	if s.pg != nil {
		s.listOrdersPG(w, r, sess)
		return
	}
	var raws []any
	err := s.st.do(r.Context(), "order.list", func(ctx context.Context) error {
		ids, err := s.st.rdb.LRange(ctx, s.st.keys.UserOrdersKey(sess.UserID), -1000, -1).Result()
		if err != nil || len(ids) == 0 {
			return err
		}
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = s.st.keys.OrderKey(sess.UserID, id) // one user's tag: MGET stays in one slot
		}
		raws, err = s.st.rdb.MGet(ctx, keys...).Result()
		return err
	})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := make([]json.RawMessage, 0, len(raws))
	for _, v := range raws {
		if str, ok := v.(string); ok {
			out = append(out, json.RawMessage(str))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": out})
}
