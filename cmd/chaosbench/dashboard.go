package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/chaosbench/chaosbench/dashboard"
	"github.com/chaosbench/chaosbench/runner"
	"github.com/spf13/pflag"
)

// dashboardFlags are run's --dashboard [ADDR] and --dashboard-public.
type dashboardFlags struct {
	addr   string
	public bool
}

// defaultDashboard is --dashboard without an address: loopback, a free port.
const defaultDashboard = "127.0.0.1:0"

func (d *dashboardFlags) register(f *pflag.FlagSet) {
	f.StringVar(&d.addr, "dashboard", "", "serve a live page of the run at ADDR (--dashboard=HOST:PORT; alone: "+defaultDashboard+", a free port on loopback, printed at start; docs/dashboard.md)")
	f.Lookup("dashboard").NoOptDefVal = defaultDashboard
	f.BoolVar(&d.public, "dashboard-public", false, "let --dashboard listen on an address that is not loopback (whoever reaches it sees the run)")
}

// start listens (before any stack starts: a port in use or an address refused is bad input, and nothing
// has run) and returns the runner option and the function that ends it after the run; no flag: none.
func (d *dashboardFlags) start(log io.Writer) ([]runner.Option, func(), error) {
	if d.addr == "" {
		if d.public {
			return nil, nil, badInput("--dashboard-public needs --dashboard")
		}
		return nil, func() {}, nil
	}
	var opts []dashboard.Option
	if d.public {
		opts = append(opts, dashboard.WithPublic())
	}
	srv, err := dashboard.Listen(d.addr, append(opts, dashboard.WithLog(log))...)
	if err != nil {
		return nil, nil, badInput("--%v", err)
	}
	fmt.Fprintf(log, "chaosbench: dashboard at %s\n", srv.URL())
	stop := func() {
		// The open pages get the final page and "run over" before the process ends.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	}
	return []runner.Option{runner.WithObserver(srv)}, stop, nil
}
