// Package stack brings the reference stack up and down in Docker with testcontainers-go: Redis, N replicas
// of the reference API and NGINX (or HAProxy) in front of them, on a private network with fixed addresses, everything
// labelled chaosbench.run=<run id> so that nothing outlives Down, an error or Ctrl-C.
package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chaosbench/chaosbench/internal/ports"
	"github.com/chaosbench/chaosbench/target/arch"

	"github.com/google/uuid"
	"github.com/moby/moby/api/types/container"
	mnet "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcnet "github.com/testcontainers/testcontainers-go/network"
	"golang.org/x/sync/errgroup"
)

const (
	redisPort = "6379/tcp"
	nginxPort = "80/tcp"
	// nginxTLSPort is NGINX's port when it terminates TLS (arch.Edge.TLS).
	nginxTLSPort = "443/tcp"
)

// Stack is a running reference stack. Its methods are safe for concurrent use.
type Stack struct {
	Config  Config
	RunID   string
	Network string           // Docker network name
	Subnet  netip.Prefix     // the network's subnet
	Gateway netip.Addr       // the host's address on that network
	Nodes   []arch.Container // API nodes, in order; ID is Docker's container id
	Redis   arch.Container
	Nginx   arch.Container // the balancer: NGINX, or HAProxy (named haproxy) with balancer haproxy
	// RedisReplicas and Sentinels are a RedisHA stack's (redisha.go); empty otherwise. Redis is then the
	// initial primary only: CurrentPrimary says which one is primary now.
	RedisReplicas []arch.Container
	Sentinels     []arch.Container
	// ClusterNodes are a RedisCluster stack's nodes after "redis" (redis-2..redis-6; rediscluster.go).
	ClusterNodes []arch.Container
	// Postgres is an architecture's PostgreSQL server (store: postgres; postgres.go); zero otherwise.
	Postgres arch.Container
	// PostgresStandby is its streaming standby (postgres_standby; postgres_standby.go); zero otherwise.
	PostgresStandby arch.Container
	// Entry is NGINX's URL on the host (http://127.0.0.1:PORT) and RedisAddr Redis's host:port, as of Up.
	// A fault that restarts NGINX or Redis changes them: EntryURL and RedisHostAddr read them again.
	Entry     string
	RedisAddr string

	docker   *Docker
	nginxCtr *testcontainers.DockerContainer // the balancer's, for NGINX's file copy and exec
	reloadMu sync.Mutex                      // one reload at a time
	mu       sync.Mutex
	routes   map[string]string // node name -> address NGINX sends its traffic to
	gen      int               // NGINX configuration generation, bumped by every reload
	downMu   sync.Mutex
	down     bool
	// attached is the compose project of a Stack from Attach: chaosbench started none of its containers.
	attached *Attachment
	// cert is this run's TLS certificate when NGINX terminates TLS (arch.Edge.TLS; tls.go), else nil.
	cert      *runCert
	probeOnce sync.Once
	tlsProbe  *http.Client
}

// Attached reports whether the stack is a compose project chaosbench attached to (Attach).
func (s *Stack) Attached() bool { return s.attached != nil }

// Docker returns the client the stack was started with, for faults; nil when attached to a bare URL.
func (s *Stack) Docker() *Docker { return s.docker }

// Containers returns every container of the stack: nodes, then redis and nginx (an attached project may
// have neither), then a RedisHA stack's replicas and Sentinels, then a store: postgres stack's PostgreSQL.
func (s *Stack) Containers() []arch.Container {
	out := append([]arch.Container(nil), s.Nodes...)
	for _, c := range []arch.Container{s.Redis, s.Nginx} {
		if c.Name != "" {
			out = append(out, c)
		}
	}
	out = append(out, s.RedisReplicas...)
	out = append(out, s.Sentinels...)
	out = append(out, s.ClusterNodes...)
	if s.Postgres.Name != "" {
		out = append(out, s.Postgres)
	}
	if s.PostgresStandby.Name != "" {
		out = append(out, s.PostgresStandby)
	}
	return out
}

// Lookup finds a container by role name (api-2, redis, nginx).
func (s *Stack) Lookup(name string) (arch.Container, bool) {
	for _, c := range s.Containers() {
		if c.Name == name {
			return c, true
		}
	}
	return arch.Container{}, false
}

// Up starts a stack and returns once every node answers /readyz through the balancer (NGINX or HAProxy).
// On any error, and when ctx ends before it is ready, it removes what it started.
func Up(ctx context.Context, opts ...Option) (_ *Stack, err error) {
	cfg, err := NewConfig(opts...)
	if err != nil {
		return nil, err
	}
	if cfg.RunID == "" {
		cfg.RunID = uuid.NewString()[:8]
	}
	if cfg.JWTSecret == "" {
		var b [32]byte
		_, _ = rand.Read(b[:])
		cfg.JWTSecret = hex.EncodeToString(b[:])
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	start := time.Now()
	cli, err := NewDocker(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkUpImages(ctx, cli, cfg); err != nil {
		_ = cli.Close()
		return nil, err
	}
	s := &Stack{Config: cfg, RunID: cfg.RunID, docker: cli, routes: map[string]string{}}
	defer func() {
		if err != nil {
			// Cleanup must run even when ctx was cancelled (Ctrl-C during Up).
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if derr := s.Down(cctx); derr != nil {
				err = errors.Join(err, derr)
			}
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()

	if err := s.createNetwork(ctx); err != nil {
		return nil, err
	}
	s.plan()
	if err := s.startAll(ctx); err != nil {
		return nil, err
	}
	if err := s.findAddrs(ctx); err != nil {
		return nil, err
	}
	logf("stack %s: containers started in %s, waiting for readiness", s.RunID, time.Since(start).Round(time.Millisecond))
	if err := s.settle(ctx); err != nil {
		return nil, err
	}
	logf("stack %s: ready in %s", s.RunID, time.Since(start).Round(time.Millisecond))
	return s, nil
}

// checkUpImages refuses a stack whose images are missing, before anything is created: a user's image
// (theirs to build: `make images` does not know it) and the ones `make images` builds.
func checkUpImages(ctx context.Context, cli *Docker, cfg Config) error {
	if svc := cfg.Arch.Service; svc.Custom() {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err := cli.ImageInspect(cctx, svc.Image)
		cancel()
		if err != nil {
			return fmt.Errorf("%w: %s (target.image): build or load it first (docker build -t %s ., or "+
				"docker load); chaosbench never pulls", ErrImagesMissing, svc.Image, svc.Image)
		}
	}
	return CheckImages(ctx, cli, append([]string{cfg.apiImage(), cfg.Images.Redis, cfg.balancerImage()}, cfg.postgresImages()...)...)
}

// plan gives every container of the architecture its name, role and address on the run's network.
func (s *Stack) plan() {
	cfg := s.Config
	s.Redis = arch.Container{Name: "redis", Role: arch.RoleRedis, IP: s.addr(2)}
	// The balancer: NGINX, or HAProxy in its place (named haproxy), at one address and entry port.
	s.Nginx = arch.Container{Name: cfg.Arch.Balancer.Proxy(), Role: arch.RoleNginx, IP: s.addr(3)}
	if cfg.Arch.RedisHA {
		s.planRedisHA()
	}
	if cfg.Arch.RedisCluster {
		s.planRedisCluster()
	}
	if cfg.Arch.UsesPostgres() {
		s.planPostgres()
	}
	for i := range cfg.Replicas {
		n := arch.Container{Name: arch.NodeName(i + 1), Role: arch.RoleAPI, IP: s.addr(11 + i),
			Port: cfg.Arch.Service.ListenPort()}
		s.Nodes = append(s.Nodes, n)
		s.routes[n.Name] = n.Addr()
	}
}

// startAll starts every container at once: the nodes retry Redis until it answers and the balancer's
// upstreams are literal IPs, so no start order is needed; readiness is checked after (settle).
func (s *Stack) startAll(ctx context.Context) error {
	cfg := s.Config
	startBalancer := s.nginxStart
	if cfg.Arch.Balancer == arch.HAProxy {
		startBalancer = s.haproxyStart
	}
	bal, err := startBalancer()
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		cmd := redisCmd(cfg.Redis, cfg.Arch)
		if cfg.Arch.RedisCluster {
			cmd = s.clusterCmd(s.Redis)
		}
		ctr, err := s.run(gctx, s.Redis, cfg.Images.Redis, nil, cmd, redisPort, nil)
		s.Redis.ID = idOf(ctr)
		return err
	})
	if cfg.Arch.RedisHA {
		s.startRedisHA(gctx, g)
	}
	if cfg.Arch.RedisCluster {
		s.startRedisCluster(gctx, g)
	}
	if cfg.Arch.UsesPostgres() {
		s.startPostgres(gctx, g)
	}
	g.Go(func() error {
		if err := bal.check(gctx); err != nil {
			return err
		}
		ctr, err := s.run(gctx, s.Nginx, bal.image, nil, bal.cmd, s.entryPort(), bal.files)
		s.Nginx.ID, s.nginxCtr = idOf(ctr), ctr
		return err
	})
	for i := range s.Nodes {
		g.Go(func() error {
			ctr, err := s.run(gctx, s.Nodes[i], cfg.apiImage(), s.apiEnv(s.Nodes[i].Name), nil,
				strconv.Itoa(s.Nodes[i].Port)+"/tcp", nil)
			s.Nodes[i].ID = idOf(ctr)
			return err
		})
	}
	return g.Wait()
}

// findAddrs reads the host ports of the entry and of Redis once the containers run.
func (s *Stack) findAddrs(ctx context.Context) (err error) {
	if s.Entry, err = s.EntryURL(ctx); err != nil {
		return err
	}
	if s.Config.Arch.RedisHA {
		// The Sentinels may not listen yet, and "redis" is the primary until a fault says otherwise.
		p, err := HostPort(ctx, s.docker, s.Redis.ID, redisPort)
		if err != nil {
			return fmt.Errorf("redis address: %w", err)
		}
		s.RedisAddr = "127.0.0.1:" + p
		return nil
	}
	s.RedisAddr, err = s.RedisHostAddr(ctx)
	return err
}

// settle waits until the stack serves: the cluster formed and PostgreSQL answering before the nodes
// (whose failure would say less), the nodes and the balancer ready, then what only a ready stack can
// show (the nodes on PostgreSQL, the Sentinels agreeing).
func (s *Stack) settle(ctx context.Context) error {
	cfg := s.Config
	if cfg.Arch.RedisCluster {
		// Before the nodes' readiness: they answer /readyz on a node's PING, formed cluster or not.
		if err := s.formRedisCluster(ctx); err != nil {
			return fmt.Errorf("stack %s: %w", s.RunID, err)
		}
	}
	if cfg.Arch.UsesPostgres() {
		// Before the nodes: they are ready only once PostgreSQL answers, and its failure says more than theirs.
		if err := s.waitPostgres(ctx); err != nil {
			return fmt.Errorf("stack %s: %w", s.RunID, err)
		}
	}
	if err := s.WaitReady(ctx); err != nil {
		return fmt.Errorf("stack %s not ready within %s: %w", s.RunID, cfg.StartTimeout, err)
	}
	if cfg.Arch.UsesPostgres() {
		if err := s.checkNodesUsePostgres(ctx); err != nil {
			return fmt.Errorf("stack %s: %w", s.RunID, err)
		}
	}
	if cfg.Arch.RedisHA {
		if err := s.waitRedisHA(ctx); err != nil {
			return fmt.Errorf("stack %s not ready within %s: %w", s.RunID, cfg.StartTimeout, err)
		}
	}
	return nil
}

// Down removes every container and the network of this stack (of an attached project: only the sidecars
// chaosbench created, by their run label). It is idempotent.
func (s *Stack) Down(ctx context.Context) error {
	s.downMu.Lock()
	defer s.downMu.Unlock()
	if s.down {
		return nil
	}
	if s.docker == nil { // attached to a bare URL: chaosbench created nothing
		s.down = true
		return nil
	}
	err := Sweep(ctx, s.docker, s.RunID)
	if err == nil {
		s.down = true
		_ = s.docker.Close()
	}
	return err
}

// run starts one container on the stack's network at its fixed address, publishing port on loopback only.
func (s *Stack) run(ctx context.Context, c arch.Container, image string, env map[string]string, cmd []string,
	port string, files []testcontainers.ContainerFile) (*testcontainers.DockerContainer, error) {
	// Host ports stay the same across a kill and restart, so that the load and the checker keep their
	// addresses through faults: pick a free port now instead of letting Docker choose one at every start.
	// Docker's own choice would also come from the kernel's ephemeral range, where any outgoing connection
	// (a load test's, say) can hold the port by the time Docker binds it. Another listener may still take
	// our port between the check and the bind: then try another.
	var lastErr error
	for range 4 {
		hp, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", c.Name, err)
		}
		ctr, err := s.runOnce(ctx, c, image, env, cmd, port, files, hp)
		if err == nil || !(strings.Contains(err.Error(), "already allocated") || strings.Contains(err.Error(), "address already in use")) {
			return ctr, err
		}
		lastErr = err
		if ctr != nil {
			// The container was created under its name: remove it before the next try takes that name.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
			_, _ = s.docker.ContainerRemove(rctx, ctr.GetContainerID(), client.ContainerRemoveOptions{Force: true})
			cancel()
		}
	}
	return nil, lastErr
}

func (s *Stack) runOnce(ctx context.Context, c arch.Container, image string, env map[string]string, cmd []string,
	port string, files []testcontainers.ContainerFile, hostPort string) (*testcontainers.DockerContainer, error) {
	p := mnet.MustParsePort(port)
	binding := mnet.PortBinding{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: hostPort}
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithName("chaosbench-" + s.RunID + "-" + c.Name),
		testcontainers.WithLabels(s.labels(string(c.Role))),
		testcontainers.WithExposedPorts(port),
		tcnet.WithNetworkName([]string{c.Name}, s.Network),
		testcontainers.WithEndpointSettingsModifier(func(eps map[string]*mnet.EndpointSettings) {
			if ep := eps[s.Network]; ep != nil {
				ep.IPAMConfig = &mnet.EndpointIPAMConfig{IPv4Address: c.IP}
			}
		}),
		// The modifier replaces testcontainers' default host config, so everything goes here.
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = mnet.PortMap{p: {binding}}
			hc.Init = boolPtr(c.Role != arch.RoleAPI) // redis and nginx run as pid 1 otherwise; refapi handles signals
		}),
	}
	if env != nil {
		opts = append(opts, testcontainers.WithEnv(env))
	}
	if cmd != nil {
		opts = append(opts, testcontainers.WithCmd(cmd...))
	}
	if files != nil {
		opts = append(opts, testcontainers.WithFiles(files...))
	}
	ctr, err := testcontainers.Run(ctx, image, opts...)
	if err != nil {
		return ctr, fmt.Errorf("start %s: %w", c.Name, err)
	}
	return ctr, nil
}

func idOf(c *testcontainers.DockerContainer) string {
	if c == nil {
		return ""
	}
	return c.GetContainerID()
}

func boolPtr(b bool) *bool { return &b }

// freePort picks a free loopback port below the kernel's ephemeral range (see internal/ports); Docker
// may still refuse it, and run retries.
func freePort() (string, error) {
	p, err := ports.Free()
	return strconv.Itoa(p), err
}

// redisCmd is a Redis server's command line (arch.Arch.RedisServerArgs: the Kubernetes manifests use it
// too): r's settings, and the architecture's min-replicas-to-write (on every server of a RedisHA stack, so
// that a promoted replica keeps it).
func redisCmd(r arch.RedisConfig, a arch.Arch) []string { return a.RedisServerArgs(r) }

// apiEnv is a node's environment. Every service gets NODE_ID and REDIS_URL; the reference API also gets
// its knobs and settings, a user's image its scenario's target.env instead.
func (s *Stack) apiEnv(node string) map[string]string {
	redisURL := "redis://" + netip.AddrPortFrom(s.Redis.IP, arch.RedisPort).String() + "/0"
	env := s.Config.Arch.NodeEnv(node, redisURL, s.Config.JWTSecret)
	if s.Config.Arch.Service.Custom() {
		return env
	}
	if len(s.Sentinels) > 0 {
		ips := make([]netip.Addr, len(s.Sentinels))
		for i, c := range s.Sentinels {
			ips[i] = c.IP
		}
		env["REDIS_SENTINELS"] = arch.SentinelAddrs(ips)
	}
	if len(s.ClusterNodes) > 0 {
		env["REDIS_CLUSTER"] = arch.ClusterAddrs(s.clusterAddrs())
	}
	s.postgresEnv(env)
	for k, v := range s.Config.RefapiEnv {
		env[k] = v
	}
	return env
}
