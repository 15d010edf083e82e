package load

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"
)

// OrderStatus is what the client knows about one logical order.
type OrderStatus string

const (
	// OrderAcknowledged: a 2xx with an order id. It must exist exactly once.
	OrderAcknowledged OrderStatus = "acknowledged"
	// OrderRejected: a 4xx answer. It should not exist (one at most if a
	// retry was answered 4xx after an earlier attempt applied).
	OrderRejected OrderStatus = "rejected"
	// OrderUnknown: no answer, or a 5xx / in-flight after all retries. It may
	// exist once; never twice.
	OrderUnknown OrderStatus = "unknown"
)

// OrderEntry is one logical order, keyed by its idempotency key.
type OrderEntry struct {
	Key        string      `json:"key"`
	RequestID  string      `json:"request_id"`
	OrderID    string      `json:"order_id,omitempty"`
	Status     OrderStatus `json:"status"`
	HTTPStatus int         `json:"http_status"`
	Code       string      `json:"code,omitempty"`
	Attempts   int         `json:"attempts"`
	Replayed   bool        `json:"replayed,omitempty"`
	Client     int         `json:"client"`
	User       string      `json:"user,omitempty"`
	// PlannedMs is the planned send time on the run's clock.
	PlannedMs int64 `json:"planned_ms"`
}

// ResourceEntry sums what the client knows about increments of one resource.
// With strong ETags the final server value v must satisfy
// Acknowledged <= v <= Acknowledged + Uncertain; v < Acknowledged is a lost
// update.
type ResourceEntry struct {
	ID string `json:"id"`
	// Acknowledged counts PATCHes answered 200: increments the server confirmed.
	Acknowledged int64 `json:"acknowledged"`
	// Uncertain counts PATCH attempts with no answer or a 5xx: each may or
	// may not have been applied.
	Uncertain int64 `json:"uncertain"`
	// Failed counts logical updates that gave up (no 200 in the end).
	Failed int64 `json:"failed"`
	// Conflicts counts 412 answers (stale ETag, re-read and retried).
	Conflicts int64 `json:"conflicts"`
}

// SessionEntry is one session's life as the client saw it.
type SessionEntry struct {
	SessionID string    `json:"session_id"`
	Client    int       `json:"client"`
	StartedAt time.Time `json:"started_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	// EndReason is why the client stopped using it: session_not_found,
	// token_expired, expired, or "" if still in use at the end of the run.
	EndReason string `json:"end_reason,omitempty"`
	// Rejections counts 401s for this session; RejectedAlive those that came
	// while the client believed it alive: a lost session.
	Rejections    int  `json:"rejections"`
	RejectedAlive int  `json:"rejected_alive"`
	Lost          bool `json:"lost"`
}

// LedgerSnapshot is the ledger as plain data: what ledger.json holds and what
// the checker in package results compares with Redis.
type LedgerSnapshot struct {
	Version   int             `json:"version"`
	RunID     string          `json:"run_id"`
	Start     time.Time       `json:"start"`
	Orders    []OrderEntry    `json:"orders"`
	Resources []ResourceEntry `json:"resources"`
	Sessions  []SessionEntry  `json:"sessions"`
}

// LedgerVersion is bumped on any incompatible change of LedgerSnapshot.
const LedgerVersion = 1

// Ledger records every write and session outcome. Safe for concurrent use:
// writes are a minority of requests, so one mutex does not limit the rate.
type Ledger struct {
	mu        sync.Mutex
	orders    []OrderEntry
	resources map[string]*ResourceEntry
	sessions  map[string]*SessionEntry
	order     []string // session ids in start order, for a stable export
}

func newLedger() *Ledger {
	return &Ledger{resources: map[string]*ResourceEntry{}, sessions: map[string]*SessionEntry{}}
}

// RecordOrder adds the final outcome of one logical order.
func (l *Ledger) RecordOrder(o OrderEntry) {
	l.mu.Lock()
	l.orders = append(l.orders, o)
	l.mu.Unlock()
}

// RecordResourceUpdate adds the outcome of one logical increment.
func (l *Ledger) RecordResourceUpdate(id string, acked bool, uncertain, conflicts int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.resources[id]
	if r == nil {
		r = &ResourceEntry{ID: id}
		l.resources[id] = r
	}
	if acked {
		r.Acknowledged++
	} else {
		r.Failed++
	}
	r.Uncertain += int64(uncertain)
	r.Conflicts += int64(conflicts)
}

func (l *Ledger) sessionStarted(client int, sid string, at, exp time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.sessions[sid]; ok {
		return
	}
	l.sessions[sid] = &SessionEntry{SessionID: sid, Client: client, StartedAt: at, ExpiresAt: exp}
	l.order = append(l.order, sid)
}

func (l *Ledger) sessionRejected(sid string, at time.Time, code string, alive bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sessions[sid]
	if s == nil {
		return
	}
	s.Rejections++
	if alive && code == CodeSessionNotFound {
		s.RejectedAlive++
		s.Lost = true
	}
}

func (l *Ledger) sessionEnded(sid string, at time.Time, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.sessions[sid]; s != nil && s.EndedAt.IsZero() {
		s.EndedAt, s.EndReason = at, reason
	}
}

// Snapshot copies the ledger into plain data, sorted for stable diffs.
func (l *Ledger) Snapshot(runID string, start time.Time) LedgerSnapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := LedgerSnapshot{Version: LedgerVersion, RunID: runID, Start: start,
		Orders:    append([]OrderEntry{}, l.orders...),
		Resources: make([]ResourceEntry, 0, len(l.resources)),
		Sessions:  make([]SessionEntry, 0, len(l.sessions)),
	}
	sort.Slice(s.Orders, func(i, j int) bool { return s.Orders[i].Key < s.Orders[j].Key })
	for _, r := range l.resources {
		s.Resources = append(s.Resources, *r)
	}
	sort.Slice(s.Resources, func(i, j int) bool { return s.Resources[i].ID < s.Resources[j].ID })
	for _, sid := range l.order {
		s.Sessions = append(s.Sessions, *l.sessions[sid])
	}
	return s
}

// WriteFile writes the snapshot as indented JSON.
func (s LedgerSnapshot) WriteFile(path string) error {
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return fmt.Errorf("encode ledger: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write ledger %s: %w", path, err)
	}
	return nil
}

// ReadLedger reads a ledger.json written by a run.
func ReadLedger(path string) (LedgerSnapshot, error) {
	var s LedgerSnapshot
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("read ledger: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("decode ledger %s: %w", path, err)
	}
	if s.Version != LedgerVersion {
		return s, fmt.Errorf("ledger %s: version %d, want %d", path, s.Version, LedgerVersion)
	}
	return s, nil
}

// LostSessions counts sessions rejected while believed alive.
func (s LedgerSnapshot) LostSessions() int {
	n := 0
	for _, x := range s.Sessions {
		if x.Lost {
			n++
		}
	}
	return n
}

// OrdersBy counts orders by status.
func (s LedgerSnapshot) OrdersBy() map[OrderStatus]int {
	m := map[OrderStatus]int{}
	for _, o := range s.Orders {
		m[o.Status]++
	}
	return m
}
