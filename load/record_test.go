package load

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// benchRecord is a typical order's record: every field set, plain ASCII.
func benchRecord() Record {
	return Record{Seq: 1, Op: "order.create", Phase: "fault", Client: 17, Planned: 1234567 * time.Microsecond,
		Sent: 1234600 * time.Microsecond, Latency: 2345 * time.Microsecond, Service: 1800 * time.Microsecond,
		Attempts: 2, Calls: 1, Status: 201, Class: ClassOK, Node: "api-2", Key: "3f9a1c2b-17", Session: "s-0123456789abcdef",
		ReqBytes: 71986, Written: 1234700 * time.Microsecond}
}

// BenchmarkRecordWrite is one records.jsonl line from the hand writer.
func BenchmarkRecordWrite(b *testing.B) {
	rw, err := newRecordWriter(b.TempDir() + "/records.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	defer rw.close()
	r := benchRecord()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Seq = uint64(i)
		if err := rw.write(&r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAggregate is the aggregator's whole work for one completed
// request at 10000/s: the records line, the cumulative and per-second
// histograms, and the once-a-second window closing into hlog and timeline.
func BenchmarkAggregate(b *testing.B) {
	files, err := createRunFiles(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	a := newAggregator([]string{"order.create"}, []string{"fault"}, 3*time.Second, DefaultTraceEvery, files)
	a.begin(time.Now())
	r := benchRecord()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Seq = uint64(i)
		r.Planned = time.Duration(i) * 100 * time.Microsecond
		a.add(&r)
		if i%10000 == 9999 {
			a.tick(r.Planned)
		}
	}
	if err := a.finish(); err != nil {
		b.Fatal(err)
	}
}

// TestRecordLayoutRoundTrip holds the three views of a records.jsonl line
// together: records written by the hand writer read back by ReadRecords
// field for field, each line decodes into recordLine with no unknown field,
// and each line has exactly the keys and values encoding/json writes for
// recordLine (omitempty included).
func TestRecordLayoutRoundTrip(t *testing.T) {
	full := benchRecord()
	tests := []struct {
		name string
		r    Record
	}{
		// every field set, plain ASCII: the writer's fast path.
		{"full", full},
		// zero durations, no client, no answer: the omitempty fields absent.
		{"zero", Record{Seq: 0, Op: "profile.read", Phase: "p", Client: -1, Class: ClassConnect}},
		// sub-microsecond parts are truncated, as Duration.Microseconds does.
		{"truncated", Record{Seq: 7, Op: "cart.write", Phase: "p", Planned: 1999 * time.Nanosecond,
			Sent: 2*time.Microsecond + 1, Latency: 999 * time.Nanosecond, Service: time.Minute + 500, Class: ClassOK}},
		// quotes, backslashes, control characters and non-ASCII in strings.
		{"escaped", Record{Seq: 9, Op: `op"quoted"`, Phase: "fault\\phase", Client: 3, Class: Class5xx,
			Code: "bad \"code\"\n\t\x01", Node: "nœud-ü-€-😀", Key: "<key>&\u2028", Session: "s\u00e9"}},
		// an empty key and session: absent, read back as "".
		{"empty key", Record{Seq: 10, Op: "order.create", Phase: "p", Status: 409, Class: Class4xx, Code: CodeInFlight, Key: ""}},
		// the largest sequence number and durations near the histogram's top.
		{"large", Record{Seq: ^uint64(0), Op: "o", Phase: "p", Client: 1 << 30, Latency: 120 * time.Second,
			Attempts: 10, Calls: 2, Status: 599, Class: ClassTimeout}},
		// a traced request: its instants written, in whole microseconds.
		{"traced", Record{Seq: 11, Op: "o", Phase: "p", Planned: time.Millisecond, Sent: 1010 * time.Microsecond,
			Dequeued: 1020*time.Microsecond + 1, Written: 1100 * time.Microsecond, FirstByte: 1250 * time.Microsecond,
			Latency: 400 * time.Microsecond, Class: ClassOK}},
		// a traced request that never wrote (a refused dial): only its dequeued instant.
		{"traced, no write", Record{Seq: 12, Op: "o", Phase: "p", Planned: time.Millisecond, Dequeued: 1020 * time.Microsecond,
			Class: ClassConnect}},
		// an untraced request's send lag stays out of the file: one clock read per request, not a field.
		{"untraced written", Record{Seq: 13, Op: "o", Phase: "p", Planned: time.Millisecond, Written: 1100 * time.Microsecond,
			Class: ClassOK}},
	}
	path := filepath.Join(t.TempDir(), runfolder.RecordsFile)
	rw, err := newRecordWriter(path)
	require.NoError(t, err)
	for _, tc := range tests {
		require.NoError(t, rw.write(&tc.r))
	}
	require.NoError(t, rw.close())

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	require.Len(t, lines, len(tests))
	var read []Record
	require.NoError(t, ReadRecords(bytes.NewReader(b), func(r Record) error { read = append(read, r); return nil }))
	require.Len(t, read, len(tests))

	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.r
			for _, d := range []*time.Duration{&want.Planned, &want.Sent, &want.Latency, &want.Service,
				&want.Dequeued, &want.Written, &want.FirstByte} {
				*d = d.Truncate(time.Microsecond)
			}
			if want.Dequeued == 0 {
				want.Written = 0 // untraced: not in the file
			}
			assert.Equal(t, want, read[i], "ReadRecords gives back what the writer wrote")

			dec := json.NewDecoder(strings.NewReader(lines[i]))
			dec.DisallowUnknownFields()
			var l recordLine
			require.NoError(t, dec.Decode(&l), "the writer writes only recordLine's fields: %s", lines[i])
			assert.Equal(t, tc.r.line(), l)

			std, err := json.Marshal(tc.r.line())
			require.NoError(t, err)
			var gotKV, wantKV map[string]any
			require.NoError(t, json.Unmarshal([]byte(lines[i]), &gotKV))
			require.NoError(t, json.Unmarshal(std, &wantKV))
			assert.Equal(t, wantKV, gotKV, "the writer's keys and values are encoding/json's for recordLine")
		})
	}
}
