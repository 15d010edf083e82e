// Command refapi runs one node of chaosbench's reference API. Configure it
// with flags or environment variables (docs/refapi.md); it refuses to start
// on a bad configuration and drains in-flight requests on SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/chaosbench/chaosbench/target"
	"github.com/redis/go-redis/v9"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	cfg := target.DefaultConfig()
	fs := flag.NewFlagSet("refapi", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: refapi [flags]\n\nOne node of chaosbench's reference API. Every flag can also be set by the\nenvironment variable named in its help; the flag wins.\n\n")
		fs.PrintDefaults()
	}
	finish := cfg.RegisterFlags(fs, os.Getenv)
	drain := fs.Duration("drain", 10*time.Second, "how long SIGTERM waits for in-flight requests")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := errors.Join(finish(), cfg.Validate()); err != nil {
		fmt.Fprintf(os.Stderr, "refapi: invalid configuration:\n%v\n", err)
		return 2
	}
	log := target.NewLogger(cfg.LogLevel)
	redis.SetLogger(target.RedisLogger(log))
	api, err := target.New(cfg, target.WithLogger(log))
	if err != nil {
		fmt.Fprintf(os.Stderr, "refapi: %v\n", err)
		return 2
	}
	defer api.Close()

	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           api.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		// The API answers 431 itself above cfg.MaxHeaderBytes (as JSON);
		// this is only the hard ceiling that protects the process.
		MaxHeaderBytes: 1 << 20,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 2)
	go func() { errc <- srv.ListenAndServe() }()
	if cfg.AdminAddr != "" {
		// The admin endpoints (the clock offset) listen apart from the API, so that the balancer, which
		// only knows ADDR, never exposes them. Shutdown does not drain them: nothing waits on them.
		admin := &http.Server{Addr: cfg.AdminAddr, Handler: api.AdminHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { errc <- fmt.Errorf("admin: %w", admin.ListenAndServe()) }()
		defer admin.Close()
		log.Info("admin listening", "addr", cfg.AdminAddr)
	}
	log.Info("listening", "addr", cfg.Addr, "auth", cfg.Auth, "sessions", cfg.Sessions,
		"idempotency", cfg.Idempotency, "concurrency", cfg.Concurrency, "store", cfg.Store)

	select {
	case err := <-errc:
		log.Error("server stopped", "err", err.Error())
		return 1
	case <-ctx.Done():
	}
	log.Info("draining", "timeout", drain.String())
	sctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("drain incomplete", "err", err.Error())
		return 1
	}
	log.Info("stopped")
	return 0
}
