package load

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/flow"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Config describes one bounded run. The zero values of the optional fields
// are replaced by the defaults documented on each field (see withDefaults).
type Config struct {
	// BaseURL of the API, e.g. http://127.0.0.1:8080. Only loopback hosts are
	// allowed unless WithAllowedNetworks adds a network the harness created.
	BaseURL string

	// Phases run back to back; their names split the results by time window
	// (e.g. "baseline", "fault", "recovery").
	Phases []Phase

	// Clients is the number of virtual clients that sign up and log in during
	// setup. Zero is allowed only when no op in the Mix needs a session.
	Clients int
	// SetupConcurrency bounds parallel sign-ups/logins (default 8): setup must
	// not itself be a load spike that a bcrypt-bound API cannot absorb.
	SetupConcurrency int
	// Password used for every virtual client (default DefaultPassword).
	Password string
	// Client, when set, is a scenario's declared client section: each virtual client renders its
	// variables and runs its setup steps once before the clock starts, instead of the built-in sign-up
	// and login. Declared ops (NewDeclared) read its variables and captures.
	Client *flow.Client

	// Mix picks an op per request by weight (default DefaultMix()).
	Mix Mix
	// Resources is the number of distinct resource ids that resource.update
	// spreads over (default 16): few enough to provoke 412 conflicts.
	Resources int

	// Retry is the retry policy of every logical call (default DefaultRetry()).
	Retry RetryPolicy
	// Timeout bounds one attempt (default 2s).
	Timeout time.Duration

	// MaxInFlight caps concurrent requests (default 4096); requests beyond it
	// are shed and counted instead of piling up goroutines and memory.
	MaxInFlight int
	// FixedInFlight turns the adaptive in-flight limit off: by default,
	// when the engine itself falls behind with in-flight work piling up
	// while the target answers (limit.go), the cap drops below MaxInFlight
	// (not under 256) so that past its limit the engine sheds load and
	// keeps its rate instead of collapsing. A stalled or slow target keeps
	// the full MaxInFlight.
	FixedInFlight bool
	// LateAfter marks a request late when it is dispatched more than this
	// after its planned time (default 10ms). Late requests are still sent.
	LateAfter time.Duration
	// MaxLateness sheds a request that could only be dispatched more than
	// this after its planned time (default 1s): past the engine's limit the
	// achieved rate plateaus instead of an ever-growing backlog.
	MaxLateness time.Duration
	// TraceEvery samples one request in TraceEvery for the harness's breakdown (Result.Harness, trace.go):
	// 0 means DefaultTraceEvery, 1 traces every request, -1 none. The send lag is measured on every
	// request whatever it says.
	TraceEvery int
	// Grace is how long in-flight requests may finish after the last phase
	// (default Retry.Budget + Timeout). Then they are cancelled and recorded.
	Grace time.Duration

	// Seed makes op, client, resource and jitter choices reproducible; it is
	// recorded in the Result. Zero means "pick one" (the pick is recorded).
	Seed uint64

	// WarmConns is how many keep-alive connections setup opens before the
	// clock starts (see warm.go): 0 sizes the pool for the first phase's
	// expected concurrency, -1 opens none.
	WarmConns int
	// WarmPath is what warm-up requests GET (default /healthz, the
	// contract's liveness check): a path without side effects.
	WarmPath string

	// TLS is the client side of an https BaseURL for both clients (the
	// measured requests' and setup's): a chaosbench stack with TLS passes
	// TLS 1.3 and a pool that trusts its run's certificate only
	// (stack.ClientTLS). Nil keeps the default: TLS 1.2 or later with the
	// system's roots. Ignored for http.
	TLS *tls.Config
	// NoKeepAlive opens a new connection for every request, setup's and
	// warm-up's included, and says Connection: close (with TLS: a full
	// handshake per request). Warm-up opens no pool then. Off by default.
	NoKeepAlive bool
	// HTTP2 sends every request (setup's too) as HTTP/2 over TLS on one
	// connection (a new one only after the server's GOAWAY), its streams
	// multiplexed, instead of the wire client's HTTP/1.1 (wire_h2.go).
	// Needs an https BaseURL and keep-alive; ignored with WithHTTPClient.
	HTTP2 bool

	// RunDir, when set, receives records.jsonl, latency.hlog, orders.jsonl
	// (streamed) and ledger.json.
	RunDir string

	// Segment makes this engine one worker of several (segment.go): it
	// sends its share of every phase's hits, sets up its share of Clients
	// and derives its seed from Seed and the segment. Zero: the whole run.
	Segment Segment
	// StartAt, when set, is the absolute instant the run's clock starts:
	// the workers of one run share it, so that their planned times, hlog
	// windows and a coordinator's faults are on one clock. Setup must be
	// over by then, or Run fails (a late start would send nothing but
	// late requests). Zero: start as soon as setup is over.
	StartAt time.Time
	// StartGate, when set (and StartAt is not), is asked for the start instant once setup is over: the
	// coordinator's gate (AskGate, segment_gate.go) answers when every worker of the run is set up.
	StartGate func(context.Context) (time.Time, error)
	// RunID, when set, is the run's id: a declared scenario's {{run.id}}, the prefix of idempotency keys
	// and of built-in users' names. The workers of one run share it (chaosbench run --workers gives them
	// one), so that {{run.id}} names the same thing in every worker, as in one process: a counter named
	// after the run is one counter, not one per worker. Keys and users stay apart all the same (a hit's
	// seq is its number in the whole schedule, a user's name carries its segment). Empty: a random one.
	RunID string
}

// Phase is one named stretch of a run, paced by a vegeta Pacer whose elapsed
// time restarts at zero at the start of the phase.
type Phase struct {
	Name     string
	Duration time.Duration
	Pacer    vegeta.Pacer
}

// Constant paces perSecond requests per second.
func Constant(perSecond int) vegeta.Pacer {
	return vegeta.ConstantPacer{Freq: perSecond, Per: time.Second}
}

// Ramp paces linearly from `from` to `to` requests per second over `over`.
// from must be at least 1: vegeta reads a zero start rate as "unlimited".
func Ramp(from, to int, over time.Duration) vegeta.Pacer {
	return vegeta.LinearPacer{
		StartAt: vegeta.Rate{Freq: from, Per: time.Second},
		Slope:   float64(to-from) / over.Seconds(),
	}
}

// Sine paces mean ± amp requests per second with the given period, starting
// at the mean and rising.
func Sine(mean, amp int, period time.Duration) vegeta.Pacer {
	return vegeta.SinePacer{
		Period:  period,
		Mean:    vegeta.Rate{Freq: mean, Per: time.Second},
		Amp:     vegeta.Rate{Freq: amp, Per: time.Second},
		StartAt: vegeta.MeanUp,
	}
}

// Pause sends nothing for the length of its phase (a cool-down or an idle
// window around a fault).
func Pause() vegeta.Pacer { return pausePacer{} }

type pausePacer struct{}

var _ vegeta.Pacer = pausePacer{}

func (pausePacer) Pace(time.Duration, uint64) (time.Duration, bool) { return 0, true }
func (pausePacer) Rate(time.Duration) float64                       { return 0 }

// Option changes how Run executes without being part of the run's plan.
type Option func(*settings) error

type settings struct {
	client   *http.Client
	logger   *slog.Logger
	progress io.Writer
	live     bool
	quiet    bool
	onStart  []func(time.Time)
	onLive   func(Live)
	allowed  []netip.Prefix
	// coarseWake: the scheduler sleeps on the runtime's timer alone (WithCoarseWake).
	coarseWake bool
}

// WithHTTPClient replaces the engine's client (keep-alive transport sized to
// MaxInFlight). The target check still applies to BaseURL.
func WithHTTPClient(c *http.Client) Option {
	return func(s *settings) error {
		if c == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		s.client = c
		return nil
	}
}

// WithLogger sets the slog logger for setup messages and periodic progress.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		s.logger = l
		return nil
	}
}

// WithProgress writes progress to w: a single live line rewritten every
// second when live is true (a terminal), else nothing there and a log line
// every 5 s. By default a terminal on stderr gets the live line.
func WithProgress(w io.Writer, live bool) Option {
	return func(s *settings) error {
		s.progress, s.live = w, live
		return nil
	}
}

// WithCoarseWake makes the scheduler sleep on the Go runtime's timer alone, up to a millisecond late on
// an idle runtime, as it did before its precise wake-up (wake.go): for benchmarks that compare the two.
func WithCoarseWake() Option {
	return func(s *settings) error { s.coarseWake = true; return nil }
}

// WithoutProgress disables progress output (tests, embedding).
func WithoutProgress() Option {
	return func(s *settings) error { s.quiet = true; return nil }
}

// OnStart registers a hook called with the run's start time (monotonic
// reading included) once setup is over and just before the first planned
// request. A scenario runner places faults on this clock.
func OnStart(fn func(start time.Time)) Option {
	return func(s *settings) error {
		if fn == nil {
			return errors.New("OnStart: nil hook")
		}
		s.onStart = append(s.onStart, fn)
		return nil
	}
}

// WithAllowedNetworks allows targets inside the given prefixes in addition to
// loopback: only for networks that the harness itself created (Docker).
func WithAllowedNetworks(prefixes ...netip.Prefix) Option {
	return func(s *settings) error {
		for _, p := range prefixes {
			if !p.IsValid() {
				return fmt.Errorf("WithAllowedNetworks: invalid prefix %v", p)
			}
		}
		s.allowed = append(s.allowed, prefixes...)
		return nil
	}
}

// Validate reports every configuration error at once.
func (c Config) Validate() []error {
	var errs []error
	u, err := url.Parse(c.BaseURL)
	switch {
	case c.BaseURL == "":
		errs = append(errs, errors.New("base_url: required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("base_url: %w", err))
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, fmt.Errorf("base_url: scheme %q, want http or https", u.Scheme))
	case u.Host == "":
		errs = append(errs, errors.New("base_url: no host"))
	}
	if c.HTTP2 {
		errs = append(errs, c.checkHTTP2(u)...)
	}
	if len(c.Phases) == 0 {
		errs = append(errs, errors.New("phases: at least one phase is required"))
	}
	seen := map[string]bool{}
	for i, p := range c.Phases {
		if p.Name == "" {
			errs = append(errs, fmt.Errorf("phases[%d]: name required", i))
		} else if seen[p.Name] {
			errs = append(errs, fmt.Errorf("phases[%d]: duplicate name %q", i, p.Name))
		}
		seen[p.Name] = true
		if p.Duration <= 0 {
			errs = append(errs, fmt.Errorf("phases[%d] %q: duration must be > 0", i, p.Name))
		}
		if p.Pacer == nil {
			errs = append(errs, fmt.Errorf("phases[%d] %q: pacer required", i, p.Name))
		}
		// vegeta reads a zero rate as "as fast as possible": never what a
		// scenario meant, and it would spin the scheduler. Pause() is idle.
		switch pc := p.Pacer.(type) {
		case vegeta.ConstantPacer:
			if pc.Freq <= 0 || pc.Per <= 0 {
				errs = append(errs, fmt.Errorf("phases[%d] %q: constant rate must be > 0 (use Pause for idle)", i, p.Name))
			}
		case vegeta.LinearPacer:
			if pc.StartAt.Freq <= 0 || pc.StartAt.Per <= 0 {
				errs = append(errs, fmt.Errorf("phases[%d] %q: ramp start rate must be >= 1/s", i, p.Name))
			}
		}
	}
	if c.Clients < 0 {
		errs = append(errs, errors.New("clients: must be >= 0"))
	}
	if c.RunID != "" && !ValidRunID(c.RunID) {
		errs = append(errs, fmt.Errorf("run id %q: want 1 to 32 letters, digits, '-' or '_'", c.RunID))
	}
	if err := c.Segment.validate(); err != nil {
		errs = append(errs, err)
	} else if c.Clients > 0 && c.Clients < c.Segment.count() {
		errs = append(errs, fmt.Errorf("clients: %d, fewer than the %d segments: every worker needs one", c.Clients, c.Segment.count()))
	}
	for i, w := range c.Mix {
		if w.Op == nil {
			errs = append(errs, fmt.Errorf("mix[%d]: nil op", i))
			continue
		}
		if w.Weight <= 0 {
			errs = append(errs, fmt.Errorf("mix[%d] %s: weight must be > 0", i, w.Op.Name()))
		}
		if needsSession(w.Op) && c.Clients == 0 {
			errs = append(errs, fmt.Errorf("mix[%d] %s: needs a session but clients is 0", i, w.Op.Name()))
		}
		if d, ok := w.Op.(*Declared); ok && d.retry != nil {
			for _, err := range d.retry.validate() {
				errs = append(errs, fmt.Errorf("mix[%d] %s: %w", i, w.Op.Name(), err))
			}
			budget := c.Retry.Budget
			if c.Retry == (RetryPolicy{}) {
				budget = DefaultRetry().Budget
			}
			if d.retry.Budget > budget {
				// The run's grace and late-record window are sized by the run's budget.
				errs = append(errs, fmt.Errorf("mix[%d] %s: retry.budget %s exceeds the run's %s", i, w.Op.Name(), d.retry.Budget, budget))
			}
		}
	}
	if c.Client != nil && c.Clients == 0 {
		errs = append(errs, errors.New("clients: a declared client section needs at least one client"))
	}
	if c.Mix == nil && c.Clients == 0 {
		errs = append(errs, errors.New("clients: the default mix needs at least one client"))
	}
	for name, d := range map[string]time.Duration{
		"timeout": c.Timeout, "late_after": c.LateAfter, "max_lateness": c.MaxLateness, "grace": c.Grace,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s: must be >= 0", name))
		}
	}
	if c.TraceEvery < -1 {
		errs = append(errs, errors.New("trace_every: must be >= -1 (-1: none, 0: the default, 1 in 16)"))
	}
	if c.WarmConns < -1 {
		errs = append(errs, errors.New("warm_conns: must be >= -1 (-1: none, 0: sized for the first phase)"))
	}
	if c.WarmPath != "" && !strings.HasPrefix(c.WarmPath, "/") {
		errs = append(errs, fmt.Errorf("warm_path: %q must start with /", c.WarmPath))
	}
	if c.MaxInFlight < 0 || c.SetupConcurrency < 0 || c.Resources < 0 {
		errs = append(errs, errors.New("max_in_flight, setup_concurrency, resources: must be >= 0"))
	}
	errs = append(errs, c.Retry.validate()...)
	return errs
}

// withDefaults fills the optional fields.
func (c Config) withDefaults() Config {
	if c.SetupConcurrency == 0 {
		c.SetupConcurrency = 8
	}
	if c.Password == "" {
		c.Password = DefaultPassword
	}
	if c.Mix == nil {
		c.Mix = DefaultMix()
	}
	if c.Resources == 0 {
		c.Resources = 16
	}
	if c.Retry == (RetryPolicy{}) {
		c.Retry = DefaultRetry()
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 4096
	}
	if c.TraceEvery == 0 {
		c.TraceEvery = DefaultTraceEvery
	}
	if c.LateAfter == 0 {
		c.LateAfter = 10 * time.Millisecond
	}
	if c.MaxLateness == 0 {
		c.MaxLateness = time.Second
	}
	if c.Grace == 0 {
		c.Grace = c.Retry.Budget + c.Timeout
	}
	if c.WarmPath == "" {
		c.WarmPath = "/healthz"
	}
	return c
}

// Duration is the sum of the phases: the planned length of the run.
func (c Config) Duration() time.Duration {
	var d time.Duration
	for _, p := range c.Phases {
		d += p.Duration
	}
	return d
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// checkTarget refuses any host outside loopback and the allowed prefixes:
// load must never leave this machine or the harness's own networks.
func checkTarget(base string, allowed []netip.Prefix) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("parse base url: %w", err)
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		ips, err := net.LookupIP(host)
		if err != nil {
			return fmt.Errorf("resolve target host %q: %w", host, err)
		}
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip); ok {
				addrs = append(addrs, a.Unmap())
			}
		}
	}
	if len(addrs) == 0 {
		return fmt.Errorf("target host %q resolves to no address", host)
	}
	for _, a := range addrs {
		ok := false
		for _, p := range append(append([]netip.Prefix{}, loopback...), allowed...) {
			if p.Contains(a.Unmap()) {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("target %s (%s) is not loopback nor an allowed harness network", host, a)
		}
	}
	return nil
}

// newHTTPClient builds a keep-alive client sized for the in-flight cap. No
// proxy: an environment proxy would send load somewhere else entirely.
func newHTTPClient(maxInFlight int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        maxInFlight,
		MaxIdleConnsPerHost: maxInFlight,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport: tr,
		// Redirects are not part of the contract; surfacing a 3xx is better
		// than silently following it elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// DefaultPassword is every virtual client's password unless Config.Password says otherwise: the
// black-box checker logs in with it after the run to read what each user's orders really are.
const DefaultPassword = "chaosbench-load-pw"

// ValidRunID reports whether id can be a run's id (Config.RunID): it goes into idempotency keys, user
// names and URLs as it is, so it is short and plain.
func ValidRunID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
