// Package results turns what a run measured into verdicts: the checks that
// compare the client's write ledger with ground truth (read through the
// Truth interface; the reference API's Redis reader is keyspace.RedisTruth),
// the summary (summary.json, versioned), thresholds, reports and run
// comparison.
package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

// SchemaVersion names the layout of summary.json. Bump it on any change that
// a consumer could notice (a renamed or removed field, a changed unit); adding
// a field is compatible. docs/summary.md documents every field.
const SchemaVersion = "chaosbench.summary/v1"

// Summary is one run of one scenario: every architecture it ran, side by side.
type Summary struct {
	Schema      string    `json:"schema"`
	Scenario    string    `json:"scenario"`
	Description string    `json:"description,omitempty"`
	Seed        int64     `json:"seed"`
	Scale       float64   `json:"scale"`
	StartedAt   time.Time `json:"started_at"`
	DurationS   float64   `json:"duration_s"`
	// Verdict is the run's status: the worst of its architectures' (see
	// Status; RunVerdict decides it). Passed is Verdict == "passed", kept for
	// consumers of the first summaries.
	Verdict       Status `json:"verdict"`
	Passed        bool   `json:"passed"`
	Architectures []Arch `json:"architectures"`
}

// Arch is the result of one architecture in a run.
type Arch struct {
	Name  string `json:"name"`
	Knobs Knobs  `json:"knobs"`
	// Error says why this architecture did not run to the end (its stack
	// did not start, the run was interrupted, it never started because an
	// earlier one failed): whatever it measured proves nothing.
	Error string `json:"error,omitempty"`
	// Valid is false for a run too weak to mean anything (e.g. the achieved
	// rate before the first fault was under 90% of the planned rate); such a
	// run is never "passed". InvalidReasons says why.
	Valid          bool     `json:"valid"`
	InvalidReasons []string `json:"invalid_reasons,omitempty"`

	Requests Requests  `json:"requests"`
	Latency  LatencyMS `json:"latency_ms"`
	// Ops splits requests and latency by op (the mix's names), in the
	// mix's order.
	Ops []OpStats `json:"ops,omitempty"`
	// Errors counts failed logical requests by class (e.g. "http_503",
	// "timeout", "connect", "session_lost").
	Errors       map[string]int64 `json:"errors"`
	ErrorRate    float64          `json:"error_rate"`   // failed / sent, 0..1
	Availability float64          `json:"availability"` // seconds with ≥ 1 success and < 50% errors / seconds, 0..1
	// Checks holds every check's result by name (check.go): its count,
	// or why it was not checked, and a few examples; the one home of a
	// count in memory (Count reads it). summary.json also writes the
	// checks older than it under "writes", "updates" and "sessions"
	// (V1Counts, archjson.go), for consumers of the first summaries.
	Checks Findings `json:"checks,omitempty"`
	// BlackBox holds the same checks with ground truth read through the service's HTTP contract instead
	// of its Redis (runner.WithCrossCheck, reference API only): on a service that keeps its contract the
	// two agree.
	BlackBox Findings `json:"black_box,omitempty"`
	// Invariants are a declared scenario's reads back through the API (package invariants): what each
	// read, or why it could not.
	Invariants []InvariantRead `json:"invariants,omitempty"`
	Faults     []Fault         `json:"faults"`
	Thresholds []Threshold     `json:"thresholds"`
	// PerNode counts successful answers by X-Node-Id.
	PerNode map[string]int64 `json:"per_node,omitempty"`

	// Timeline is one entry per second of the run (by planned send time),
	// for charts. Percentiles is the latency distribution of the whole run.
	Timeline    []Second     `json:"timeline"`
	Percentiles []Percentile `json:"percentiles"`
	// Files are paths relative to the run folder (histogram, records, logs).
	Files map[string]string `json:"files,omitempty"`
	// LoadCPUMSPerRequest is the load engine's process CPU time over the load window per request sent
	// (load.Result.CPU); absent where it was not measured.
	LoadCPUMSPerRequest float64 `json:"load_cpu_ms_per_request,omitempty"`
	// Harness is the load engine's own share of the latencies (harness.go): its send lag, and the
	// sampled breakdown by stage; absent where not measured.
	Harness *Harness `json:"harness,omitempty"`
	// Edge is what TLS and keep-alive cost at NGINX and on the load side (edge.go); absent unless the
	// scenario names an edge knob.
	Edge *EdgeStats `json:"edge,omitempty"`
	// Workers are the load workers when several sent the load (workers.go), each with its clock offset;
	// absent when this process sent it.
	Workers []Worker `json:"workers,omitempty"`
}

// Knobs are the architecture's settings as they ran: arch.Arch's knobs under the same names, and the
// stack's size. KnobsOf is the one conversion.
type Knobs struct {
	// Image is a user's service that replaced the reference API (target.image); the reference API's knobs
	// below are then empty.
	Image string `json:"image,omitempty"`
	// Attached is the compose project chaosbench attached to (target.compose.project; the URL for a bare
	// target.url): it started nothing, and the knobs below are empty but for replicas (the API's containers).
	Attached    string `json:"attached,omitempty"`
	Auth        string `json:"auth"`
	Sessions    string `json:"sessions"`
	Idempotency bool   `json:"idempotency"`
	Concurrency string `json:"concurrency"`
	Balancer    string `json:"balancer"`
	Replicas    int    `json:"replicas"`
	// TokenPadBytes is the size the token (or sid cookie) was padded to (TOKEN_PAD_BYTES); absent when off.
	TokenPadBytes int `json:"token_pad_bytes,omitempty"`
	// The edge (arch.Edge): TLS 1.3 at NGINX, and keep-alive of the load's connections and of NGINX's
	// towards the nodes. Absent unless the scenario names one of them (then both keep-alives are written).
	TLS               bool  `json:"tls,omitempty"`
	ClientKeepAlive   *bool `json:"client_keepalive,omitempty"`
	UpstreamKeepAlive *bool `json:"upstream_keepalive,omitempty"`
	// HTTP2: the load spoke HTTP/2 to NGINX over TLS (arch.Edge.HTTP2); absent when HTTP/1.1.
	HTTP2 bool `json:"http2,omitempty"`
	// RedisHA: Redis ran as a primary, two replicas and three Sentinels (stateless-ha); absent when off.
	RedisHA bool `json:"redis_ha,omitempty"`
	// RedisCluster: Redis ran as a Redis Cluster of three primaries and three replicas (stateless-cluster);
	// absent when off.
	RedisCluster bool `json:"redis_cluster,omitempty"`
	// Store is where orders and resources lived when not in Redis ("postgres": PostgreSQL behind the
	// Redis cache, stateless-postgres); absent for Redis.
	Store string `json:"store,omitempty"`
	// PostgresPool is each API node's PostgreSQL connection pool (POSTGRES_POOL_SIZE: the server's
	// connections less a reserve, shared by the nodes, at most 32 each) with store postgres; absent otherwise.
	PostgresPool int `json:"postgres_pool,omitempty"`
	// PostgresStandby is the PostgreSQL standby's replication (async or sync; postgres_standby); absent
	// without one.
	PostgresStandby string `json:"postgres_standby,omitempty"`
	// MinReplicasToWrite: the Redis primary's min-replicas-to-write (Redis HA only); absent when off.
	MinReplicasToWrite int `json:"min_replicas_to_write,omitempty"`
	// Refresh is the access tokens' lifetime with refresh tokens on (ACCESS_TTL, e.g. "10s"), with its
	// grace when set ("10s grace 5s"); absent when off.
	Refresh string `json:"refresh,omitempty"`
	// CacheTTL is the reference API's resource cache (CACHE_TTL, e.g. "5s", with store postgres); absent when off.
	CacheTTL string `json:"cache_ttl,omitempty"`
}

// KnobsOf is a's settings on a stack of replicas API nodes, as the summary records them.
func KnobsOf(a arch.Arch, replicas int) Knobs {
	k := Knobs{Image: a.Service.Image, Auth: a.Auth, Sessions: a.Sessions, Idempotency: a.Idempotency, Concurrency: a.Concurrency,
		Balancer: string(a.Balancer), Replicas: replicas, TokenPadBytes: a.TokenPad, RedisHA: a.RedisHA,
		MinReplicasToWrite: a.MinReplicasToWrite, RedisCluster: a.RedisCluster}
	if a.UsesPostgres() {
		k.Store, k.PostgresPool, k.PostgresStandby = a.Store, arch.PostgresPoolSize(replicas), a.PostgresStandby
	}
	if a.Refresh > 0 {
		k.Refresh = a.Refresh.String()
		if a.RefreshGrace > 0 {
			k.Refresh += " grace " + a.RefreshGrace.String()
		}
	}
	if a.UsesCache() {
		k.CacheTTL = a.CacheTTL.String()
	}
	if !a.Edge.Default() {
		client, upstream := !a.Edge.NoClientKeepAlive, !a.Edge.NoUpstreamKeepAlive
		k.TLS, k.ClientKeepAlive, k.UpstreamKeepAlive = a.Edge.TLS, &client, &upstream
		k.HTTP2 = a.Edge.HTTP2
	}
	return k
}

// Requests counts logical requests (a request and its retries count once).
type Requests struct {
	Planned int64 `json:"planned"` // scheduled by the pacer
	Sent    int64 `json:"sent"`    // dispatched (late ones included)
	OK      int64 `json:"ok"`      // answered with success after all retries
	Failed  int64 `json:"failed"`  // no success after all retries
	Dropped int64 `json:"dropped"` // planned but never sent (shed: in-flight cap or too late)
	Late    int64 `json:"late"`    // sent, but later than the late threshold
	Retries int64 `json:"retries"` // extra attempts
	// Rates before the first fault, per second: the run's validity check.
	PlannedRate  float64 `json:"planned_rate"`
	AchievedRate float64 `json:"achieved_rate"`
}

// OpStats is one op of the mix: its logical requests (retries count once), how
// many failed, and what its users waited (from the planned send time).
type OpStats struct {
	Name      string  `json:"name"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	ErrorRate float64 `json:"error_rate"` // errors / requests, 0..1
	Retries   int64   `json:"retries"`
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
	// ReqBytesPerRequest is the bandwidth of one request on the way in: request lines, headers (a
	// token among them) and bodies of all its attempts, divided by the requests; per attempt, divided
	// by the attempts (docs/load.md). Absent from summaries written before the engine counted bytes.
	ReqBytesPerRequest float64 `json:"req_bytes_per_request,omitempty"`
	ReqBytesPerAttempt float64 `json:"req_bytes_per_attempt,omitempty"`
}

// LatencyMS is measured from the planned send time and includes every
// retry: what a user waited. Milliseconds.
type LatencyMS struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// V1Counts are the counts summary.json has written since its first version, under "writes", "updates"
// and "sessions": the checks older than Arch.Checks, mirrored there on encode (a check's V1 field) and
// read from there for a summary written before Checks existed. A check that was not checked is 0 here,
// and says so only in "checks".
type V1Counts struct {
	Writes   Writes   `json:"writes"`
	Updates  Updates  `json:"updates"`
	Sessions Sessions `json:"sessions"`
}

// Writes are order creations, checked against the store (mirrors of the
// writes.* checks).
type Writes struct {
	Acknowledged int64 `json:"acknowledged"` // 2xx with an order id
	Rejected     int64 `json:"rejected"`     // a definite 4xx
	// Indeterminate: no answer after all retries; the order may or may not exist.
	Indeterminate int64 `json:"indeterminate"`
	// Duplicates: logical writes (idempotency key or request_id) with more than
	// one order in Redis; the count is the number of extra orders.
	Duplicates int64 `json:"duplicates"`
	// Lost: acknowledged, yet absent from Redis.
	Lost int64 `json:"lost"`
	// Applied of the indeterminate ones: present in Redis although the client
	// never learnt it.
	IndeterminateApplied int64 `json:"indeterminate_applied"`
}

// Updates are read-modify-write increments of resources (ETag or not).
type Updates struct {
	Acknowledged int64 `json:"acknowledged"`
	// Lost: acknowledged increments missing from the final values.
	Lost int64 `json:"lost"`
	// Unacknowledged applied: final values above the acknowledged count
	// (an increment that succeeded but whose answer was lost).
	Extra int64 `json:"extra"`
}

// Sessions are the virtual clients' logins.
type Sessions struct {
	Total int64 `json:"total"`
	// Lost: a session rejected as unknown (session_not_found) while the client
	// knew it to be alive.
	Lost int64 `json:"lost"`
}

// Fault is one injection with what it did to the service.
type Fault struct {
	Kind      string  `json:"kind"`
	Target    string  `json:"target"`             // as written in the scenario (e.g. any-api)
	Resolved  string  `json:"resolved,omitempty"` // the node it hit (e.g. api-2)
	Mechanism string  `json:"mechanism,omitempty"`
	StartS    float64 `json:"start_s"` // on the run's clock
	EndS      float64 `json:"end_s"`
	// BeginS is when the harness began the injection, when that was before StartS (a failover's kill and
	// promotion, a link cut before it): the service may be harmed from then on, so the charts draw the
	// stretch as a lead-in to the fault's band. Omitted when the injection took effect at once.
	BeginS float64 `json:"begin_s,omitempty"`
	// RecoveryS is the time from the fault's end until p99 is back within
	// RecoveryFactor of the baseline p99 for RecoveryRun consecutive seconds
	// (docs/reports.md); nil: not recovered, or the fault did not run.
	RecoveryS *float64 `json:"recovery_s"`
	// Before is the fault's baseline: the stretch as long as the fault just
	// before it, or, when that overlaps an earlier fault or its recovery,
	// the baseline of the first fault (Before.FromS/ToS say which).
	Before Window `json:"before"`
	// BaselineOfFirst: Before is the first fault's baseline, because the
	// stretch before this fault overlapped an earlier one or its recovery.
	BaselineOfFirst bool   `json:"baseline_of_first,omitempty"`
	During          Window `json:"during"`
	After           Window `json:"after"`
	// Dropped counts requests planned during the fault that the harness
	// never sent (shed or too late): past MaxDroppedShare of the planned
	// ones the architecture is invalid.
	Dropped int64 `json:"dropped"`
	// Error says why the fault did not happen as planned (could not be
	// injected, not reverted, never started): the architecture is then
	// invalid, and its recovery is not measured.
	Error string `json:"error,omitempty"`
	// The injector's health brackets: HealthBefore is why the stack was not
	// ready just before the injection ("" = every node ready through NGINX);
	// ReadyAfterS is how long after the revert every node was ready again
	// (nil: not within the injector's timeout, or never injected).
	HealthBefore string   `json:"health_before,omitempty"`
	ReadyAfterS  *float64 `json:"ready_after_s"`
}

// Window summarises a stretch of the timeline around a fault, by planned
// send time [FromS, ToS) on the run's clock: the requests sent (a request and
// its retries count once), how many failed after all retries, the extra
// attempts, and what their users waited. The thresholds on one fault
// (faults[1].latency.p99, fault_metrics.go) read its During window.
type Window struct {
	FromS     float64 `json:"from_s"`
	ToS       float64 `json:"to_s"`
	Requests  int64   `json:"requests"`
	ErrorRate float64 `json:"error_rate"`
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
	// Errors, Retries, P95MS and MaxMS were added in v1, compatibly: absent
	// (0) in summaries written before fault thresholds read them.
	Errors  int64   `json:"errors"`
	Retries int64   `json:"retries"`
	P95MS   float64 `json:"p95_ms"`
	MaxMS   float64 `json:"max_ms"`
}

// Threshold is one evaluated expression, e.g. "latency.p99 < 300ms".
type Threshold struct {
	Expr string `json:"expr"`
	// Metric is the name of the metric the expression reads, so that a
	// report formats the value in its unit without parsing Expr again.
	Metric string  `json:"metric,omitempty"`
	Value  float64 `json:"value"` // in the metric's base unit (ms, ratio, count, s); -1: infinite, see Detail
	OK     bool    `json:"ok"`
	// Unmeasured: the metric had nothing to measure (recovery.seconds when a
	// fault did not run, or there was none); such a threshold never passes.
	Unmeasured bool `json:"unmeasured,omitempty"`
	// Detail explains a value a number cannot carry, e.g. "not recovered:
	// kill api-2 at 20s" (recovery.seconds is then infinite and Value -1).
	Detail string `json:"detail,omitempty"`
}

// Second is one second of the timeline (by planned send time).
type Second struct {
	T       int    `json:"t"`
	Phase   string `json:"phase,omitempty"`
	Planned int64  `json:"planned"`
	Sent    int64  `json:"sent"`
	OK      int64  `json:"ok"`
	Errors  int64  `json:"errors"`
	Dropped int64  `json:"dropped"`
	// Retries are the extra attempts of the second's requests; P95MS and Retries were added in v1,
	// compatibly (absent, 0, in summaries written before the dashboard drew them).
	Retries int64   `json:"retries,omitempty"`
	P50MS   float64 `json:"p50_ms"`
	P95MS   float64 `json:"p95_ms,omitempty"`
	P99MS   float64 `json:"p99_ms"`
	MaxMS   float64 `json:"max_ms"`
}

// Percentile is one point of a latency distribution curve.
type Percentile struct {
	Quantile float64 `json:"q"` // percent, 0..100
	MS       float64 `json:"ms"`
}

// Encode writes s as summary.json holds it: indented JSON and a newline. The one encoder of a summary
// (the json report is this, and WriteFile).
func (s Summary) Encode(w io.Writer) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteFile writes s to path (Encode); a run writes its summary.json with its reports instead
// (render.WriteReports, complete or not at all).
func (s Summary) WriteFile(path string) error {
	var b bytes.Buffer
	if err := s.Encode(&b); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// ReadSummary reads a summary.json, refusing an unknown schema version.
func ReadSummary(path string) (Summary, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Summary{}, err
	}
	var s Summary
	if err := json.Unmarshal(raw, &s); err != nil {
		return Summary{}, fmt.Errorf("%s: not a chaosbench summary: %w", path, err)
	}
	if s.Schema != SchemaVersion {
		return Summary{}, fmt.Errorf("%s: schema %q, this chaosbench reads %q", path, s.Schema, SchemaVersion)
	}
	return s, nil
}

// Arch returns the architecture named name.
func (s Summary) Arch(name string) (Arch, bool) {
	for _, a := range s.Architectures {
		if a.Name == name {
			return a, true
		}
	}
	return Arch{}, false
}

// InvariantRead is one declared invariant's read back through the service's API after the load.
type InvariantRead struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // set or counter
	// Values counts what the read returned: a set's elements, a counter's keys.
	Values   int `json:"values"`
	Requests int `json:"requests"`
	// Error says why the read failed (the checks that needed it are then not checked).
	Error string `json:"error,omitempty"`
}

func (r InvariantRead) String() string {
	if r.Error != "" {
		return fmt.Sprintf("invariant %s: not read: %s", r.Name, r.Error)
	}
	return fmt.Sprintf("invariant %s (%s): %d values in %d requests", r.Name, r.Kind, r.Values, r.Requests)
}
