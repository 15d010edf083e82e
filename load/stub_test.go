package load

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// stubAPI is a minimal in-memory version of the reference API contract, with
// hooks to inject failures. It exists so that the engine's logic can be
// tested precisely; integration_test.go runs against the real target.
type stubAPI struct {
	mu        sync.Mutex
	nextSess  int
	sessions  map[string]string // token -> user
	orders    map[string]string // key -> order id
	orderHits map[string]int    // key -> requests seen
	keys      map[string][]string
	values    map[string]int64
	cookie    bool

	// inject, when set, may answer a request instead of the stub: return a
	// status > 0 to answer with {"code": code}; -1 to hang up the connection.
	inject func(r *http.Request, key string, n int) (status int, code string)
}

func newStub(t *testing.T) (*stubAPI, *httptest.Server) {
	s := &stubAPI{sessions: map[string]string{}, orders: map[string]string{},
		orderHits: map[string]int{}, keys: map[string][]string{}, values: map[string]int64{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Node-Id", "stub-1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code, "code": code})
}

func (s *stubAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	if key != "" {
		s.orderHits[key]++
		s.keys[r.URL.Path] = append(s.keys[r.URL.Path], key)
	}
	n := s.orderHits[key]
	inject := s.inject
	s.mu.Unlock()
	if inject != nil {
		if st, code := inject(r, key, n); st > 0 {
			writeErr(w, st, code)
			return
		} else if st < 0 {
			hj, ok := w.(http.Hijacker)
			if ok {
				c, _, _ := hj.Hijack()
				_ = c.Close()
			}
			return
		}
	}
	switch {
	case r.URL.Path == "/v1/users":
		writeJSON(w, 201, map[string]string{"user_id": "u"})
	case r.URL.Path == "/v1/login":
		var b loginBody
		_ = json.Unmarshal(body, &b)
		s.mu.Lock()
		s.nextSess++
		sid := "s" + strconv.Itoa(s.nextSess)
		s.sessions[sid] = b.Username
		s.mu.Unlock()
		if s.cookie {
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, HttpOnly: true, Path: "/"})
			writeJSON(w, 200, map[string]any{"session_id": sid, "expires_in": 3600})
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": sid, "token_type": "Bearer", "expires_in": 3600, "session_id": sid})
	default:
		sid := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if c, err := r.Cookie("sid"); err == nil {
			sid = c.Value
		}
		s.mu.Lock()
		_, ok := s.sessions[sid]
		s.mu.Unlock()
		if !ok {
			writeErr(w, 401, CodeSessionNotFound)
			return
		}
		s.serveAuthed(w, r, body, key)
	}
}

func (s *stubAPI) serveAuthed(w http.ResponseWriter, r *http.Request, body []byte, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.URL.Path == "/v1/profile":
		writeJSON(w, 200, map[string]any{"user_id": "u", "cart": []any{}, "cart_version": 1})
	case r.URL.Path == "/v1/cart":
		writeJSON(w, 200, map[string]any{"cart": []any{}, "cart_version": 2})
	case r.URL.Path == "/v1/orders" && r.Method == http.MethodPost:
		if key == "" {
			writeErr(w, 400, "idempotency_key_missing")
			return
		}
		id, ok := s.orders[key]
		if ok {
			w.Header().Set("Idempotent-Replayed", "true")
		} else {
			id = fmt.Sprintf("o%d", len(s.orders)+1)
			s.orders[key] = id
		}
		writeJSON(w, 201, map[string]string{"order_id": id})
	case strings.HasPrefix(r.URL.Path, "/v1/resources/"):
		id := strings.TrimPrefix(r.URL.Path, "/v1/resources/")
		etag := fmt.Sprintf("%q", strconv.FormatInt(s.values[id], 10))
		if r.Method == http.MethodGet {
			w.Header().Set("ETag", etag)
			writeJSON(w, 200, map[string]any{"id": id, "value": s.values[id]})
			return
		}
		if r.Header.Get("If-Match") != etag {
			writeErr(w, 412, "precondition_failed")
			return
		}
		var v struct{ Value int64 }
		_ = json.Unmarshal(body, &v)
		s.values[id] = v.Value
		w.Header().Set("ETag", fmt.Sprintf("%q", strconv.FormatInt(v.Value, 10)))
		writeJSON(w, 200, map[string]any{"id": id, "value": v.Value})
	default:
		writeErr(w, 404, "not_found")
	}
}

func (s *stubAPI) dropSessions() {
	s.mu.Lock()
	s.sessions = map[string]string{}
	s.mu.Unlock()
}

// quick returns a Config for short tests against url.
func quick(url string, rate int, d time.Duration) Config {
	return Config{BaseURL: url, Clients: 4, Seed: 42,
		Phases:      []Phase{{Name: "steady", Duration: d, Pacer: Constant(rate)}},
		Retry:       RetryPolicy{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond, Budget: 3 * time.Second},
		Timeout:     2 * time.Second,
		MaxLateness: 5 * time.Second, // a loaded CI machine must not turn tests into shedding tests
	}
}
