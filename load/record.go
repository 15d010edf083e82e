package load

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
	"unicode/utf8"
)

// Record is one request as it ended, written as one line of records.jsonl
// (recordLine is that line's layout). Offsets are on the run's clock.
type Record struct {
	Seq      uint64
	Op       string
	Phase    string
	Client   int           // -1 without a client
	Planned  time.Duration // planned send time since start
	Sent     time.Duration // actual dispatch since start
	Latency  time.Duration // end - planned: what the user waited
	Service  time.Duration // last attempt alone
	Attempts int           // HTTP attempts incl. re-login repeats
	Calls    int           // logical calls the op made (resource.update: GET and PATCH)
	Status   int           // last HTTP status, 0 if none
	Class    string        // ok, http_4xx, http_5xx, timeout, connect, transport, canceled, setup; declared ops: capture_failed, expect_failed, setup_failed
	Code     string        // API error code
	Node     string        // X-Node-Id of the last answer
	Key      string        // idempotency key / resource id
	Session  string        // session id used by the last attempt
	// ReqBytes is what the request's attempts wrote: request lines, headers (the token among them) and
	// bodies, summed over every attempt (exact on the wire client, but for its silent re-send on a stale
	// keep-alive connection, counted once; an estimate on a custom http.Client).
	ReqBytes int64
	// Written is when the first attempt's request was written (0: none was): Written - Planned is the
	// send lag (Harness.SendLag). Dequeued and FirstByte are stamped on traced requests only (0
	// otherwise): when a worker took the request and when the first byte of its last answer came
	// (trace.go). All on the run's clock; records.jsonl carries the three for traced requests only.
	Written, Dequeued, FirstByte time.Duration

	opIdx    int
	phaseIdx int
}

// ErrorKind names a failed request for the errors by kind (the report's table, the dashboard): the API's
// code when it gave one (state_store_unavailable), else its HTTP status (http_503), else the transport
// class (timeout, connect).
func (r *Record) ErrorKind() string {
	if r.Code != "" {
		return r.Code
	}
	if r.Status != 0 && r.Class != ClassTimeout && r.Class != ClassConnect {
		return "http_" + strconv.Itoa(r.Status)
	}
	return r.Class
}

// recordLine is the layout of a records.jsonl line, its one definition:
// the reader decodes it with encoding/json, and the hand writer must write
// what encoding/json would write for it (TestRecordLayoutRoundTrip holds
// them together). Durations are whole microseconds, truncated.
type recordLine struct {
	Seq       uint64 `json:"seq"`
	Op        string `json:"op"`
	Phase     string `json:"phase"`
	Client    int    `json:"client"`
	PlannedUs int64  `json:"planned_us"`
	SentUs    int64  `json:"sent_us"`
	LatencyUs int64  `json:"latency_us"`
	ServiceUs int64  `json:"service_us"`
	Attempts  int    `json:"attempts"`
	Calls     int    `json:"calls"`
	Status    int    `json:"status"`
	Class     string `json:"class"`
	Code      string `json:"code,omitempty"`
	Node      string `json:"node,omitempty"`
	Key       string `json:"key,omitempty"`
	Session   string `json:"session,omitempty"`
	ReqBytes  int64  `json:"req_bytes,omitempty"`
	// A traced request's instants (Record.Dequeued, Written, FirstByte), absent on the others.
	DequeuedUs  int64 `json:"dequeued_us,omitempty"`
	WrittenUs   int64 `json:"written_us,omitempty"`
	FirstByteUs int64 `json:"first_byte_us,omitempty"`
}

func (r *Record) line() recordLine {
	l := recordLine{Seq: r.Seq, Op: r.Op, Phase: r.Phase, Client: r.Client,
		PlannedUs: r.Planned.Microseconds(), SentUs: r.Sent.Microseconds(),
		LatencyUs: r.Latency.Microseconds(), ServiceUs: r.Service.Microseconds(),
		Attempts: r.Attempts, Calls: r.Calls, Status: r.Status, Class: r.Class, Code: r.Code,
		Node: r.Node, Key: r.Key, Session: r.Session, ReqBytes: r.ReqBytes}
	if r.Dequeued != 0 {
		l.DequeuedUs, l.WrittenUs, l.FirstByteUs = r.Dequeued.Microseconds(), r.Written.Microseconds(), r.FirstByte.Microseconds()
	}
	return l
}

func (l *recordLine) record() Record {
	us := time.Microsecond
	return Record{Seq: l.Seq, Op: l.Op, Phase: l.Phase, Client: l.Client,
		Planned: time.Duration(l.PlannedUs) * us, Sent: time.Duration(l.SentUs) * us,
		Latency: time.Duration(l.LatencyUs) * us, Service: time.Duration(l.ServiceUs) * us,
		Attempts: l.Attempts, Calls: l.Calls, Status: l.Status, Class: l.Class, Code: l.Code,
		Node: l.Node, Key: l.Key, Session: l.Session, ReqBytes: l.ReqBytes,
		Dequeued: time.Duration(l.DequeuedUs) * us, Written: time.Duration(l.WrittenUs) * us,
		FirstByte: time.Duration(l.FirstByteUs) * us}
}

// recordWriter appends records as JSON lines by hand, in recordLine's
// layout: encoding/json costs a reflection walk per record at tens of
// thousands of records per second. A field added to recordLine must be
// added here too; the round-trip test fails until it is.
type recordWriter struct {
	f   *os.File
	w   *bufio.Writer
	buf []byte
}

func newRecordWriter(path string) (*recordWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create records file: %w", err)
	}
	return &recordWriter{f: f, w: bufio.NewWriterSize(f, 256<<10), buf: make([]byte, 0, 512)}, nil
}

func (rw *recordWriter) write(r *Record) error {
	b := rw.buf[:0]
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = appendStr(b, "op", r.Op)
	b = appendStr(b, "phase", r.Phase)
	b = appendInt(b, "client", int64(r.Client))
	b = appendInt(b, "planned_us", r.Planned.Microseconds())
	b = appendInt(b, "sent_us", r.Sent.Microseconds())
	b = appendInt(b, "latency_us", r.Latency.Microseconds())
	b = appendInt(b, "service_us", r.Service.Microseconds())
	b = appendInt(b, "attempts", int64(r.Attempts))
	b = appendInt(b, "calls", int64(r.Calls))
	b = appendInt(b, "status", int64(r.Status))
	b = appendStr(b, "class", r.Class)
	if r.Code != "" {
		b = appendStr(b, "code", r.Code)
	}
	if r.Node != "" {
		b = appendStr(b, "node", r.Node)
	}
	if r.Key != "" {
		b = appendStr(b, "key", r.Key)
	}
	if r.Session != "" {
		b = appendStr(b, "session", r.Session)
	}
	if r.ReqBytes != 0 {
		b = appendInt(b, "req_bytes", r.ReqBytes)
	}
	if r.Dequeued != 0 { // traced: its instants, each omitted when zero as encoding/json would
		for _, f := range [3]struct {
			k string
			v time.Duration
		}{{"dequeued_us", r.Dequeued}, {"written_us", r.Written}, {"first_byte_us", r.FirstByte}} {
			if us := f.v.Microseconds(); us != 0 {
				b = appendInt(b, f.k, us)
			}
		}
	}
	b = append(b, '}', '\n')
	rw.buf = b
	_, err := rw.w.Write(b)
	return err
}

func (rw *recordWriter) flush() error { return rw.w.Flush() }

func (rw *recordWriter) close() error {
	ferr := rw.w.Flush()
	cerr := rw.f.Close()
	if ferr != nil {
		return fmt.Errorf("flush records: %w", ferr)
	}
	if cerr != nil {
		return fmt.Errorf("close records: %w", cerr)
	}
	return nil
}

func appendInt(b []byte, k string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

func appendStr(b []byte, k, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

// appendJSONString quotes s as JSON: plain ASCII (all our ids and codes) is
// copied as is; anything else goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// ReadRecords decodes a records.jsonl stream, calling fn for each record.
func ReadRecords(r io.Reader, fn func(Record) error) error {
	dec := json.NewDecoder(r)
	for {
		var l recordLine
		if err := dec.Decode(&l); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("decode record: %w", err)
		}
		if err := fn(l.record()); err != nil {
			return err
		}
	}
}

// Retries is how many attempts were repeats: attempts beyond one per
// logical call (a read-then-write op makes two calls without retrying).
func (r Record) Retries() int {
	calls := max(r.Calls, 1)
	return max(r.Attempts-calls, 0)
}
