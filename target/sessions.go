package target

import (
	"context"
	"encoding/json"
	"github.com/chaosbench/chaosbench/target/keyspace"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// item is one line of a cart or an order.
type item struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// session is the server-side state of one login.
type session struct {
	ID          string
	UserID      string
	Username    string
	CreatedAt   time.Time
	ExpiresAt   time.Time // fixed at login: a client knows when it ends
	Cart        []item
	CartVersion int64
	// Refresh starts the session's refresh-token family at generation 0 (refresh.go).
	Refresh bool
}

// sessionStore is where sessions live: Redis (shared by every node) or the
// node's own memory (the stateful design whose sessions die with the node).
type sessionStore interface {
	create(ctx context.Context, s session) error
	// get returns found=false for an unknown or expired session.
	get(ctx context.Context, id string) (s session, found bool, err error)
	setCart(ctx context.Context, id string, items []item) (s session, found bool, err error)
	close()
}

// redisSessions keeps each session as a hash with an absolute expiry.
type redisSessions struct{ st *store }

func (r redisSessions) create(ctx context.Context, s session) error {
	cart, _ := json.Marshal(s.Cart)
	return r.st.do(ctx, "session.create", func(ctx context.Context) error {
		_, err := r.st.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			k := keyspace.Session + s.ID
			p.HSet(ctx, k,
				"user_id", s.UserID, "username", s.Username,
				"created_at", s.CreatedAt.UnixMilli(), "expires_at", s.ExpiresAt.UnixMilli(),
				"cart", cart, "cart_version", s.CartVersion)
			if s.Refresh {
				p.HSet(ctx, k, "refresh_gen", 0, "refresh_at", s.CreatedAt.UnixMilli())
			}
			p.PExpireAt(ctx, k, s.ExpiresAt)
			return nil
		})
		return err
	})
}

func (r redisSessions) get(ctx context.Context, id string) (session, bool, error) {
	var h map[string]string
	err := r.st.do(ctx, "session.get", func(ctx context.Context) (err error) {
		h, err = r.st.rdb.HGetAll(ctx, keyspace.Session+id).Result()
		return err
	})
	if err != nil {
		return session{}, false, err
	}
	if len(h) == 0 {
		return session{}, false, nil
	}
	return sessionFromHash(id, h), true, nil
}

// setCartScript updates the cart only if the session still exists, so a
// write never resurrects an expired session without a TTL.
var setCartScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
redis.call('HSET', KEYS[1], 'cart', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'cart_version', 1)
return redis.call('HGETALL', KEYS[1])`)

func (r redisSessions) setCart(ctx context.Context, id string, items []item) (session, bool, error) {
	cart, _ := json.Marshal(items)
	var flat []any
	err := r.st.do(ctx, "session.set_cart", func(ctx context.Context) (err error) {
		v, err := setCartScript.Run(ctx, r.st.rdb, []string{keyspace.Session + id}, cart).Result()
		flat, _ = v.([]any)
		return err
	})
	if err == redis.Nil {
		return session{}, false, nil
	}
	if err != nil {
		return session{}, false, err
	}
	h := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		k, _ := flat[i].(string)
		v, _ := flat[i+1].(string)
		h[k] = v
	}
	return sessionFromHash(id, h), true, nil
}

func (redisSessions) close() {}

func sessionFromHash(id string, h map[string]string) session {
	ms := func(k string) time.Time {
		n, _ := strconv.ParseInt(h[k], 10, 64)
		return time.UnixMilli(n).UTC()
	}
	s := session{ID: id, UserID: h["user_id"], Username: h["username"], CreatedAt: ms("created_at"), ExpiresAt: ms("expires_at")}
	s.CartVersion, _ = strconv.ParseInt(h["cart_version"], 10, 64)
	_ = json.Unmarshal([]byte(h["cart"]), &s.Cart)
	return s
}

// memorySessions keeps sessions in this process: fast, and gone when the
// process dies or when the balancer sends the client to another node.
type memorySessions struct {
	mu   sync.Mutex
	m    map[string]session
	now  func() time.Time
	stop chan struct{}
	once sync.Once
}

func newMemorySessions(now func() time.Time) *memorySessions {
	ms := &memorySessions{m: map[string]session{}, now: now, stop: make(chan struct{})}
	go ms.janitor(30 * time.Second)
	return ms
}

// janitor drops expired sessions so that memory stays bounded on long runs.
func (ms *memorySessions) janitor(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ms.stop:
			return
		case <-t.C:
			now := ms.now()
			ms.mu.Lock()
			for id, s := range ms.m {
				if !now.Before(s.ExpiresAt) {
					delete(ms.m, id)
				}
			}
			ms.mu.Unlock()
		}
	}
}

func (ms *memorySessions) create(_ context.Context, s session) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.m[s.ID] = s
	return nil
}

func (ms *memorySessions) get(_ context.Context, id string) (session, bool, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	s, ok := ms.m[id]
	if !ok || !ms.now().Before(s.ExpiresAt) {
		return session{}, false, nil
	}
	return s, true, nil
}

func (ms *memorySessions) setCart(_ context.Context, id string, items []item) (session, bool, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	s, ok := ms.m[id]
	if !ok || !ms.now().Before(s.ExpiresAt) {
		return session{}, false, nil
	}
	s.Cart = items
	s.CartVersion++
	ms.m[s.ID] = s
	return s, true, nil
}

func (ms *memorySessions) close() { ms.once.Do(func() { close(ms.stop) }) }
