package target

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// The node's clock offset: the fault hook behind chaosbench's clock-skew fault. A container cannot have a
// wall clock of its own on a shared kernel (time namespaces cover CLOCK_MONOTONIC and CLOCK_BOOTTIME, not
// CLOCK_REALTIME), and libfaketime's LD_PRELOAD does not reach a Go binary, which reads the clock through
// the vDSO without libc. So the API reads its wall clock through one function that adds an offset, set at
// run time through the admin endpoint: every time the API reads (token iat/nbf/exp when it issues and when
// it verifies, session expiry, created_at stamps) moves with it, as on a node whose clock has drifted.
// Durations the API measures (latency metrics, timeouts) use the monotonic clock and do not move, as they
// would not on a drifted node either.

// MaxClockOffset bounds the offset the admin endpoint accepts: far more than any drift worth simulating,
// and far from the range where a time computation could overflow.
const MaxClockOffset = 24 * time.Hour

// skewedClock is a time source plus an offset that may change while requests read it.
type skewedClock struct {
	base   func() time.Time
	offset atomic.Int64 // nanoseconds
}

func (c *skewedClock) now() time.Time { return c.base().Add(time.Duration(c.offset.Load())) }

// ClockOffset is what the node adds to its wall clock (0 unless the admin endpoint set one).
func (s *Server) ClockOffset() time.Duration { return time.Duration(s.clock.offset.Load()) }

// SetClockOffset moves the node's wall clock by d from the real one (0 puts it back).
func (s *Server) SetClockOffset(d time.Duration) error {
	if d > MaxClockOffset || d < -MaxClockOffset {
		return fmt.Errorf("clock offset %s: want at most ±%s", d, MaxClockOffset)
	}
	s.clock.offset.Store(int64(d))
	s.log.Warn("clock offset set", "offset", d.String())
	return nil
}

// AdminHandler serves the node's admin endpoints, meant for a port of their own (ADMIN_ADDR) that only
// the run's private network reaches: the balancer never routes to it, so a client of the API cannot move
// a node's clock.
//
//	GET /admin/clock                       → {"offset":"30s","offset_ms":30000,"leeway":"5s","node_id":"api-2"}
//	PUT /admin/clock  {"offset":"-90s"}    → the same, after setting it
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/clock", s.getClock)
	mux.HandleFunc("PUT /admin/clock", s.putClock)
	return jsonFallback(mux, http.HandlerFunc(writeMiss))
}

// clockState is the admin endpoint's answer: the offset as a Go duration and in milliseconds (for a
// reader that does not parse Go durations), and the leeway it competes with.
type clockState struct {
	Offset   string `json:"offset"`
	OffsetMS int64  `json:"offset_ms"`
	Leeway   string `json:"leeway"`
	NodeID   string `json:"node_id"`
}

func (s *Server) clockState() clockState {
	d := s.ClockOffset()
	return clockState{Offset: d.String(), OffsetMS: d.Milliseconds(), Leeway: s.cfg.TokenLeeway.String(), NodeID: s.cfg.NodeID}
}

func (s *Server) getClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.clockState())
}

func (s *Server) putClock(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Offset string `json:"offset"`
	}
	if !decodeJSON(w, r, 1<<10, &in) {
		return
	}
	d, err := time.ParseDuration(in.Offset)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("offset %q: want a duration like 30s or -90s", in.Offset))
		return
	}
	if err := s.SetClockOffset(d); err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.clockState())
}
