package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/chaosbench/chaosbench/dashboard"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/runner"
)

// dashboardCPU measures what the live dashboard costs the load engine: ours at the ratio rate, with and
// without the dashboard served and a page open on it, alternated over the rounds (the one that goes
// first rotates) so that a neighbour's burst falls on both; medians. The page is read by this (parent)
// process, as a browser would from its own, so that the loader's rusage holds only what serving it
// costs: the live seconds, the render each second, the stream.
func dashboardCPU(p peers, o options) error {
	fmt.Printf("dashboard cost: ours at %d/s for %s, without and with the live dashboard (a page open on it), %d rounds\n",
		o.ratioRate, o.cpuDur, max(1, o.rounds))
	var off, on, late []float64
	for i := range max(1, o.rounds) {
		for j := range 2 {
			withDash := (i+j)%2 == 1
			var t trial
			var err error
			if withDash {
				t, err = p.oursWithPage(o.ratioRate, o.cpuDur)
			} else {
				t, err = p.ours(o.ratioRate, time.Second, o.cpuDur-time.Second, false)
			}
			if err != nil {
				return err
			}
			late = append(late, t.WholeLate)
			name := "off"
			if withDash {
				name, on = "on", append(on, t.cpuPerReq())
			} else {
				off = append(off, t.cpuPerReq())
			}
			fmt.Printf("  dashboard %-3s sent %6d  late %6.2f%%  cpu %6.2fs  %6.1fus/req  p99 %7.2fms  others %s %s\n",
				name, t.Requests, 100*t.WholeLate, t.Usage.CPU.Seconds(), t.cpuPerReq(), msf(t.P99Whole), pct(t.Others), t.Note)
		}
	}
	f, n := medianOf(off), medianOf(on)
	warn := ""
	if l := medianOf(late); l > 0.01 {
		// Trials that fell behind did less work, later: their CPU per request says more about the machine.
		warn = fmt.Sprintf(" [NOISY: median late %.1f%%, the machine was busy]", 100*l)
	}
	fmt.Printf("dashboard cpu per request: off=%.1fus on=%.1fus ratio=%.3f (medians of %d rounds at %d/s; goal within 5%%)%s\n",
		f, n, safeDiv(n, f), len(on), o.ratioRate, warn)
	return nil
}

// oursWithPage is a trial of ours serving the dashboard on a free loopback port, with this process
// reading its event stream for the whole run.
func (p peers) oursWithPage(rate int, d time.Duration) (trial, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return trial{}, err
	}
	addr := ln.Addr().String()
	_ = ln.Close() // the child listens there; nothing else on this machine picks ports from 0 in between
	ctx, cancel := context.WithCancel(context.Background())
	updates := make(chan int, 1)
	go func() { updates <- readPage(ctx, "http://"+addr+"/events") }()
	t, err := p.ours(rate, time.Second, d-time.Second, false, "-dashboard="+addr)
	cancel()
	if n := <-updates; err == nil && n == 0 {
		err = fmt.Errorf("the dashboard at %s pushed no page during the run", addr)
	}
	return t, err
}

// readPage opens the dashboard's stream (retrying while the child starts) and counts its updates until
// the stream ends or ctx does.
func readPage(ctx context.Context, url string) int {
	n := 0
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			if sc.Text() == "event: update" {
				n++
			}
		}
		resp.Body.Close()
		return n
	}
	return n
}

// serveDashboard is the child's side: the dashboard at addr, fed the engine's live seconds as a run
// would feed it. stop ends it once the load is over.
func serveDashboard(addr string) (func(load.Live), func(), error) {
	srv, err := dashboard.Listen(addr)
	if err != nil {
		return nil, nil, err
	}
	srv.Observe(runner.RunStarted{Scenario: "bench-load", Archs: []string{"ours"}})
	srv.Observe(runner.ArchStarted{Arch: "ours", Containers: []string{"server"}})
	live := func(l load.Live) { srv.Observe(runner.LoadSecond{Arch: "ours", Live: l}) }
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	}
	return live, stop, nil
}
