package load

import (
	"testing"
	"time"
)

// benchRecord is a typical order's record: every field set, plain ASCII.
func benchRecord() Record {
	return Record{Seq: 1, Op: "order.create", Phase: "fault", Client: 17, Planned: 1234567 * time.Microsecond,
		Sent: 1234600 * time.Microsecond, Latency: 2345 * time.Microsecond, Service: 1800 * time.Microsecond,
		Attempts: 2, Calls: 1, Status: 201, Class: ClassOK, Node: "api-2", Key: "3f9a1c2b-17", Session: "s-0123456789abcdef"}
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
	a, err := newAggregator([]string{"order.create"}, []string{"fault"}, 3*time.Second, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
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
