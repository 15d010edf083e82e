package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// LabelRun marks every container and network of one stack: chaosbench.run=<run id>. Down and Sweep find
// what to remove by it, since no Ryuk reaper runs here to do it.
const LabelRun = "chaosbench.run"

// labelRole says what a container is: api, redis, nginx or sidecar.
const labelRole = "chaosbench.role"

// callTimeout bounds each Docker API call that should be quick.
const callTimeout = 15 * time.Second

func init() {
	// Ryuk cannot be pulled with no registry, and testcontainers reads this once, at its first call:
	// set it before any. A user who set it explicitly keeps their choice.
	if _, ok := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !ok {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	// testcontainers prints a banner and a line per container to stderr; the CLI prints what matters.
	if os.Getenv("CHAOSBENCH_TC_LOG") == "" {
		tclog.SetDefault(tclog.NewNoopLogger())
	}
}

// Docker is the Docker client the stack and its faults use.
type Docker = testcontainers.DockerClient

// NewDocker connects to the Docker daemon (DOCKER_HOST or the default socket), with a deadline.
func NewDocker(ctx context.Context) (*Docker, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to docker: %w", err)
	}
	return cli, nil
}

// ErrImagesMissing is wrapped by every error about an image that is not present locally.
var ErrImagesMissing = errors.New("image not available locally")

// CheckImages fails fast, naming the fix, when an image is not present locally: testcontainers would
// otherwise try to pull it from a registry we cannot reach, for up to 15 minutes.
func CheckImages(ctx context.Context, cli *Docker, images ...string) error {
	var errs []error
	for _, img := range images {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err := cli.ImageInspect(cctx, img)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s (run `make images`, or set CHAOSBENCH_*_IMAGE): %v", ErrImagesMissing, img, err))
		}
	}
	return errors.Join(errs...)
}

// RunInfo describes the labelled containers of one run, for `stack status`.
type RunInfo struct {
	RunID      string
	Containers []ContainerInfo
	Networks   []string
}

// ContainerInfo is one labelled container.
type ContainerInfo struct {
	Name  string
	Role  string
	State string // running, paused, exited ...
	Image string
	ID    string
}

func runFilter(runID string) client.Filters {
	if runID == "" {
		return client.Filters{}.Add("label", LabelRun)
	}
	return client.Filters{}.Add("label", LabelRun+"="+runID)
}

// List returns every run with labelled containers or networks on this Docker host, sorted by run id.
func List(ctx context.Context, cli *Docker) ([]RunInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: runFilter("")})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: runFilter("")})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	runs := map[string]*RunInfo{}
	get := func(id string) *RunInfo {
		if runs[id] == nil {
			runs[id] = &RunInfo{RunID: id}
		}
		return runs[id]
	}
	for _, c := range cs.Items {
		name := c.ID[:12]
		if len(c.Names) > 0 {
			name = c.Names[0][1:]
		}
		r := get(c.Labels[LabelRun])
		r.Containers = append(r.Containers, ContainerInfo{Name: name, Role: c.Labels[labelRole],
			State: string(c.State), Image: c.Image, ID: c.ID})
	}
	for _, n := range ns.Items {
		r := get(n.Labels[LabelRun])
		r.Networks = append(r.Networks, n.Name)
	}
	out := make([]RunInfo, 0, len(runs))
	for _, r := range runs {
		sort.Slice(r.Containers, func(i, j int) bool { return r.Containers[i].Name < r.Containers[j].Name })
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RunID < out[j].RunID })
	return out, nil
}

// Sweep force-removes every container and network labelled with runID, or with any run id when runID is
// empty. It keeps going past errors and returns them all.
func Sweep(ctx context.Context, cli *Docker, runID string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var errs []error
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: runFilter(runID)})
	if err != nil {
		return fmt.Errorf("sweep: list containers: %w", err)
	}
	done := make(chan error, len(cs.Items))
	// Removal in parallel: a paused container takes as long as a running one, and Down should be quick.
	for _, c := range cs.Items {
		go func(id string) {
			_, err := cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			if err != nil && !isNotFound(err) {
				err = fmt.Errorf("sweep: remove container %s: %w", id[:12], err)
			} else {
				err = nil
			}
			done <- err
		}(c.ID)
	}
	for range cs.Items {
		errs = append(errs, <-done)
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: runFilter(runID)})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("sweep: list networks: %w", err))...)
	}
	for _, n := range ns.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("sweep: remove network %s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }

// HostPort returns the loopback host port that Docker maps to a container's port (say "8080/tcp"). It
// changes when a container restarts, so callers read it again after faults.
func HostPort(ctx context.Context, cli *Docker, containerID, port string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := cli.ContainerInspect(ctx, containerID, client.ContainerInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("inspect %s: %w", containerID[:12], err)
	}
	p, err := network.ParsePort(port)
	if err != nil {
		return "", err
	}
	if res.Container.NetworkSettings != nil {
		for _, b := range res.Container.NetworkSettings.Ports[p] {
			if b.HostPort != "" && b.HostPort != "0" {
				if _, err := strconv.Atoi(b.HostPort); err == nil {
					return b.HostPort, nil
				}
			}
		}
	}
	return "", fmt.Errorf("container %s has no host port for %s (is it running?)", containerID[:12], port)
}
