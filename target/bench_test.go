package target

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/chaosbench/chaosbench/internal/redistest"
)

// BenchmarkProfileRead is GET /v1/profile end to end over loopback HTTP:
// token check plus a Redis session read. For CPU profiles of the hot path
// (go test -bench ProfileRead -cpuprofile cpu.out ./target).
func BenchmarkProfileRead(b *testing.B) {
	rs := redistest.Start(b)
	cfg := testConfig(rs.URL(), "bench")
	srv, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	n := &node{t: &testing.T{}, srv: srv, URL: hs.URL}
	var auths [][]string
	for i := range 20 {
		auths = append(auths, n.newClient("u"+strconv.Itoa(i)).auth)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	client := &http.Client{Transport: tr}
	var seq atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a := auths[seq.Add(1)%int64(len(auths))]
			req, _ := http.NewRequest("GET", hs.URL+"/v1/profile", nil)
			req.Header.Set(a[0], a[1])
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode != 200 {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}
