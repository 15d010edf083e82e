package load

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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
	Key string `json:"key"`
	// Op is the declared op that made the entry ("" for the built-in order.create), and Set the set
	// invariant its key is an element of ("" when the op records none: no invariant reads it).
	Op         string      `json:"op,omitempty"`
	Set        string      `json:"set,omitempty"`
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
	// Counter and Key name a declared counter (record: {counter, key}); ID is then Counter/Key.
	Counter string `json:"counter,omitempty"`
	Key     string `json:"key,omitempty"`
	// Acknowledged counts PATCHes answered 200: increments the server confirmed.
	Acknowledged int64 `json:"acknowledged"`
	// Uncertain counts PATCH attempts with no answer or a 5xx: each may or
	// may not have been applied.
	Uncertain int64 `json:"uncertain"`
	// Failed counts logical updates that gave up (no 200 in the end).
	Failed int64 `json:"failed"`
	// Conflicts counts 412 answers (stale ETag, re-read and retried).
	Conflicts int64 `json:"conflicts"`
	// Reads and Writes are the versions the built-in resource ops saw: every 200 GET and every 200 PATCH,
	// with their times (ledger_reads.go), for the stale-read check. Absent for declared counters.
	Reads  []VersionRead  `json:"reads,omitempty"`
	Writes []VersionWrite `json:"writes,omitempty"`
}

// SessionEntry is one session's life as the client saw it.
type SessionEntry struct {
	SessionID string `json:"session_id"`
	Client    int    `json:"client"`
	// User is the client's username: the black-box checker logs in as it to read what the service holds.
	User      string    `json:"user,omitempty"`
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
	// Refreshes counts the refresh tokens this session's client traded for new access tokens (a service
	// with refresh tokens, on 401 token_expired); a refused refresh is a rejection, and EndReason its code.
	Refreshes int `json:"refreshes,omitempty"`
}

// LedgerSnapshot is the ledger as plain data: what ledger.json holds and what
// the checker in package results compares with Redis.
//
// Orders are not held in memory when the run has a RunDir: they are
// appended to OrdersFile (orders.jsonl, one OrderEntry per line, flushed
// every second) as they complete, so that memory does not grow with the
// run's length, and read back in batches (OrderBatches, EachOrder).
// Without a RunDir (unit tests) they are in Orders. Resources and sessions
// are bounded by the resources and the logins and stay in memory.
type LedgerSnapshot struct {
	Version int       `json:"version"`
	RunID   string    `json:"run_id"`
	Start   time.Time `json:"start"`
	// OrdersFile is orders.jsonl: in ledger.json a name relative to the
	// ledger's folder, in a Result or after ReadLedger a usable path.
	OrdersFile string `json:"orders_file,omitempty"`
	// OrderCounts counts orders by status (all of them, streamed or not).
	OrderCounts map[OrderStatus]int `json:"order_counts"`
	// Orders holds the orders only when there is no OrdersFile.
	Orders    []OrderEntry    `json:"orders,omitempty"`
	Resources []ResourceEntry `json:"resources"`
	Sessions  []SessionEntry  `json:"sessions"`
	// Clients are the declared clients' variables (a scenario's client section), by client id: what the
	// invariants' reads render their requests with, as each client.
	Clients []ClientEntry `json:"clients,omitempty"`
}

// ClientEntry is one declared client as its setup (or its last new session) left it.
type ClientEntry struct {
	ID int `json:"id"`
	// Vars are its variables and setup captures, each as JSON (a string, or a captured number, object...).
	Vars map[string]json.RawMessage `json:"vars,omitempty"`
	// SetupError says why its setup failed ("" when it held).
	SetupError string `json:"setup_error,omitempty"`
}

// LedgerVersion is bumped on any incompatible change of the ledger files.
// 2: orders moved from ledger.json to orders.jsonl; ReadLedger still reads
// version 1 files (orders inline).
const LedgerVersion = 2

// Ledger records every write and session outcome. Safe for concurrent use:
// writes are a minority of requests, so one mutex does not limit the rate.
type Ledger struct {
	mu        sync.Mutex
	orders    []OrderEntry // only without a file
	counts    map[OrderStatus]int
	resources map[string]*ResourceEntry
	sessions  map[string]*SessionEntry
	order     []string // session ids in start order, for a stable export
	clients   map[int]ClientEntry

	path string
	f    *os.File
	w    *bufio.Writer
	enc  *json.Encoder
	err  error // first write error, reported by close
}

func newLedger() *Ledger {
	return &Ledger{counts: map[OrderStatus]int{}, resources: map[string]*ResourceEntry{},
		sessions: map[string]*SessionEntry{}, clients: map[int]ClientEntry{}}
}

// stream makes the ledger append orders to path instead of keeping them.
func (l *Ledger) stream(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create orders file: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.path, l.f, l.w = path, f, bufio.NewWriterSize(f, 64<<10)
	l.enc = json.NewEncoder(l.w)
	return nil
}

// RecordOrder adds the final outcome of one logical order.
func (l *Ledger) RecordOrder(o OrderEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[o.Status]++
	if l.enc == nil {
		l.orders = append(l.orders, o)
		return
	}
	if err := l.enc.Encode(o); err != nil && l.err == nil {
		l.err = fmt.Errorf("write order %s: %w", o.Key, err)
	}
}

// flush pushes buffered orders to the file: the aggregator calls it every
// second, so a crash loses at most the last second, as for records.
func (l *Ledger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return
	}
	if err := l.w.Flush(); err != nil && l.err == nil {
		l.err = fmt.Errorf("flush orders: %w", err)
	}
}

// close flushes and closes the orders file; orders recorded after it (none:
// every worker has finished) would be lost, so it comes last.
func (l *Ledger) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	if err := l.w.Flush(); err != nil && l.err == nil {
		l.err = fmt.Errorf("flush orders: %w", err)
	}
	if err := l.f.Close(); err != nil && l.err == nil {
		l.err = fmt.Errorf("close orders: %w", err)
	}
	l.f, l.w, l.enc = nil, nil, nil
	return l.err
}

// RecordResourceUpdate adds the outcome of one logical increment.
func (l *Ledger) RecordResourceUpdate(id string, acked bool, uncertain, conflicts int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.resource(id)
	if acked {
		r.Acknowledged++
	} else {
		r.Failed++
	}
	r.Uncertain += int64(uncertain)
	r.Conflicts += int64(conflicts)
}

// RecordCounter adds the outcome of one logical increment of a declared counter by by: acknowledged
// or not, and how many of its writes had an unknown effect (uncertain) or were refused as stale
// (conflicts).
func (l *Ledger) RecordCounter(counter, key string, by int64, acked bool, uncertain, conflicts int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.counter(counter, key, by, uncertain, conflicts)
	if acked {
		r.Acknowledged += by
	} else {
		r.Failed++
	}
}

// RecordCounterAttempts adds the writes of one run through a counter op that restarts (and may then
// increment another key): their unknown effects and refusals, not a logical increment.
func (l *Ledger) RecordCounterAttempts(counter, key string, by int64, uncertain, conflicts int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counter(counter, key, by, uncertain, conflicts)
}

// counter is the entry of counter/key, with the attempts added; l.mu is held.
func (l *Ledger) counter(counter, key string, by int64, uncertain, conflicts int) *ResourceEntry {
	id := counter + "/" + key
	r := l.resources[id]
	if r == nil {
		r = &ResourceEntry{ID: id, Counter: counter, Key: key}
		l.resources[id] = r
	}
	r.Uncertain += int64(uncertain) * by
	r.Conflicts += int64(conflicts)
	return r
}

// recordClient keeps c, replacing what an earlier call kept for its id.
func (l *Ledger) recordClient(c ClientEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clients[c.ID] = c
}

// Snapshot copies the ledger into plain data, sorted for stable diffs
// (streamed orders stay in their file, in completion order).
func (l *Ledger) Snapshot(runID string, start time.Time) LedgerSnapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := LedgerSnapshot{Version: LedgerVersion, RunID: runID, Start: start, OrdersFile: l.path,
		OrderCounts: maps.Clone(l.counts),
		Resources:   make([]ResourceEntry, 0, len(l.resources)),
		Sessions:    make([]SessionEntry, 0, len(l.sessions)),
	}
	if l.path == "" {
		s.Orders = append([]OrderEntry{}, l.orders...)
		sort.Slice(s.Orders, func(i, j int) bool { return s.Orders[i].Key < s.Orders[j].Key })
	}
	for _, r := range l.resources {
		c := *r
		c.Reads, c.Writes = slices.Clone(r.Reads), slices.Clone(r.Writes) // the run may still be adding
		sortVersions(&c)
		s.Resources = append(s.Resources, c)
	}
	sort.Slice(s.Resources, func(i, j int) bool { return s.Resources[i].ID < s.Resources[j].ID })
	for _, sid := range l.order {
		s.Sessions = append(s.Sessions, *l.sessions[sid])
	}
	for _, c := range l.clients {
		s.Clients = append(s.Clients, c)
	}
	sort.Slice(s.Clients, func(i, j int) bool { return s.Clients[i].ID < s.Clients[j].ID })
	return s
}

// WriteFile writes the snapshot as indented JSON, naming the orders file
// relative to the ledger's folder so that a run folder can be moved.
func (s LedgerSnapshot) WriteFile(path string) error {
	if s.OrdersFile != "" {
		rel, err := filepath.Rel(filepath.Dir(path), s.OrdersFile)
		if err != nil {
			return fmt.Errorf("orders file %s beside ledger %s: %w", s.OrdersFile, path, err)
		}
		s.OrdersFile = rel
	}
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return fmt.Errorf("encode ledger: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write ledger %s: %w", path, err)
	}
	return nil
}

// ReadLedger reads a ledger.json written by a run (version 1 or 2). Orders
// stay in their file: read them with OrderBatches or EachOrder.
func ReadLedger(path string) (LedgerSnapshot, error) {
	var s LedgerSnapshot
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("read ledger: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("decode ledger %s: %w", path, err)
	}
	switch s.Version {
	case 1: // orders inline
		s.OrderCounts = map[OrderStatus]int{}
		for _, o := range s.Orders {
			s.OrderCounts[o.Status]++
		}
	case LedgerVersion:
		if s.OrdersFile != "" && !filepath.IsAbs(s.OrdersFile) {
			s.OrdersFile = filepath.Join(filepath.Dir(path), s.OrdersFile)
		}
	default:
		return s, fmt.Errorf("ledger %s: version %d, want 1 or %d", path, s.Version, LedgerVersion)
	}
	return s, nil
}

// OrderBatches calls fn with the orders, at most n at a time, from the
// orders file or from memory. The slice is reused between calls: fn must
// not keep it. Memory stays at one batch whatever the run's length.
func (s LedgerSnapshot) OrderBatches(n int, fn func([]OrderEntry) error) error {
	n = max(n, 1)
	if s.OrdersFile == "" {
		for i := 0; i < len(s.Orders); i += n {
			if err := fn(s.Orders[i:min(i+n, len(s.Orders))]); err != nil {
				return err
			}
		}
		return nil
	}
	f, err := os.Open(s.OrdersFile)
	if err != nil {
		return fmt.Errorf("open orders: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	batch := make([]OrderEntry, 0, n)
	for line := 1; ; line++ {
		batch = append(batch, OrderEntry{})
		err := dec.Decode(&batch[len(batch)-1])
		if err == io.EOF {
			batch = batch[:len(batch)-1]
			break
		}
		if err != nil {
			return fmt.Errorf("decode order %d of %s: %w", line, s.OrdersFile, err)
		}
		if len(batch) == n {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

// EachOrder calls fn for every order (see OrderBatches).
func (s LedgerSnapshot) EachOrder(fn func(OrderEntry) error) error {
	return s.OrderBatches(512, func(b []OrderEntry) error {
		for _, o := range b {
			if err := fn(o); err != nil {
				return err
			}
		}
		return nil
	})
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
	return maps.Clone(s.OrderCounts)
}

// OrderCount is the number of orders recorded.
func (s LedgerSnapshot) OrderCount() int {
	n := 0
	for _, c := range s.OrderCounts {
		n += c
	}
	return n
}

// orderEntry is the ledger entry of one keyed write, for order.create and declared ops alike: a 2xx is
// acknowledged; no answer, a 5xx or an in-flight 409 is unknown (it may or may not have been applied); any
// other answer is a rejection. The caller adds what only it knows (the order id, the op's name).
func orderEntry(x *Exec, key string, resp *Response, err error) OrderEntry {
	e := OrderEntry{Key: key, Attempts: x.Attempts(), PlannedMs: x.Planned().Milliseconds()}
	if c := x.Client(); c != nil {
		e.Client, e.User = c.ID, c.Username
	}
	switch {
	case err != nil || resp == nil:
		e.Status = OrderUnknown
	case resp.Status >= 200 && resp.Status < 300:
		e.Status = OrderAcknowledged
	case resp.Status >= 500 || (resp.Status == http.StatusConflict && resp.Code == CodeInFlight):
		e.Status = OrderUnknown
	default:
		e.Status = OrderRejected
	}
	if resp != nil {
		e.HTTPStatus, e.Code, e.Replayed = resp.Status, resp.Code, resp.Replayed
	}
	return e
}
