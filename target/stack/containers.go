package stack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/chaosbench/chaosbench/target/arch"
)

// What a fault does to one container, with Docker: the mechanism behind chaos.Stack, the port through
// which package chaos acts on a stack without importing a container runtime. Containers are named as the
// stack names them (api-2, redis, nginx).

// faultTimeout bounds one Docker call made for a fault (a stop adds its grace period).
const faultTimeout = 30 * time.Second

// container finds a container of the stack by name.
func (s *Stack) container(name string) (arch.Container, error) {
	c, ok := s.Lookup(name)
	if !ok || c.ID == "" {
		return arch.Container{}, fmt.Errorf("no container %q in stack %s", name, s.RunID)
	}
	return c, nil
}

// lifecycle finds the container name and makes one Docker call on it, bounded by faultTimeout plus extra,
// with the verb in its error.
func (s *Stack) lifecycle(ctx context.Context, verb, name string, extra time.Duration, call func(ctx context.Context, id string) error) error {
	c, err := s.container(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, faultTimeout+extra)
	defer cancel()
	if err := call(ctx, c.ID); err != nil {
		return fmt.Errorf("%s %s: %w", verb, name, err)
	}
	return nil
}

// Kill sends SIGKILL to the container: no shutdown, in-flight requests die with it.
func (s *Stack) Kill(ctx context.Context, name string) error {
	return s.lifecycle(ctx, "kill", name, 0, func(ctx context.Context, id string) error {
		_, err := s.docker.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "SIGKILL"})
		return err
	})
}

// Stop sends SIGTERM and SIGKILL after grace.
func (s *Stack) Stop(ctx context.Context, name string, grace time.Duration) error {
	secs := int(grace / time.Second)
	return s.lifecycle(ctx, "stop", name, grace, func(ctx context.Context, id string) error {
		_, err := s.docker.ContainerStop(ctx, id, client.ContainerStopOptions{Signal: "SIGTERM", Timeout: &secs})
		return err
	})
}

// Start starts a stopped or killed container again. Its fixed IP and, for NGINX and Redis, its host port
// are kept.
func (s *Stack) Start(ctx context.Context, name string) error {
	return s.lifecycle(ctx, "start", name, 0, func(ctx context.Context, id string) error {
		_, err := s.docker.ContainerStart(ctx, id, client.ContainerStartOptions{})
		return err
	})
}

// Restart stops the container (SIGTERM, SIGKILL after grace) and starts it at once.
func (s *Stack) Restart(ctx context.Context, name string, grace time.Duration) error {
	secs := int(grace / time.Second)
	return s.lifecycle(ctx, "restart", name, grace, func(ctx context.Context, id string) error {
		_, err := s.docker.ContainerRestart(ctx, id, client.ContainerRestartOptions{Timeout: &secs})
		return err
	})
}

// Pause freezes every process of the container (cgroup freezer).
func (s *Stack) Pause(ctx context.Context, name string) error {
	return s.lifecycle(ctx, "pause", name, 0, func(ctx context.Context, id string) error {
		_, err := s.docker.ContainerPause(ctx, id, client.ContainerPauseOptions{})
		return err
	})
}

// Unpause thaws a paused container.
func (s *Stack) Unpause(ctx context.Context, name string) error {
	return s.lifecycle(ctx, "unpause", name, 0, func(ctx context.Context, id string) error {
		_, err := s.docker.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{})
		return err
	})
}

// Exec runs cmd inside the container and returns its output (stdout and stderr), or an error with that
// output when it exits non-zero.
func (s *Stack) Exec(ctx context.Context, name string, cmd ...string) (string, error) {
	c, err := s.container(name)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, faultTimeout)
	defer cancel()
	created, err := s.docker.ExecCreate(ctx, c.ID, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return "", fmt.Errorf("exec in %s: %w", name, err)
	}
	att, err := s.docker.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return "", fmt.Errorf("exec in %s: %w", name, err)
	}
	defer att.Close()
	// The stream ends when the command does; a command that hangs (in a paused container, say) must
	// not hold the fault past its context: closing the connection ends the copy.
	stop := context.AfterFunc(ctx, att.Close)
	defer stop()
	var out bytes.Buffer
	_, cerr := stdcopy.StdCopy(&out, &out, att.Reader)
	text := strings.TrimSpace(out.String())
	if ctx.Err() != nil {
		return text, fmt.Errorf("exec in %s: %w", name, ctx.Err())
	}
	if cerr != nil {
		return text, fmt.Errorf("exec in %s: read output: %w", name, cerr)
	}
	res, err := s.docker.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
	if err != nil {
		return text, fmt.Errorf("exec in %s: %w", name, err)
	}
	if res.ExitCode != 0 {
		return text, fmt.Errorf("%s in %s exited %d: %s", cmd[0], name, res.ExitCode, text)
	}
	return text, nil
}

// Sidecar runs a shell script in a short-lived container that shares the named container's network
// namespace, with NET_ADMIN, from the image that has iptables and tc: the API image is FROM scratch and
// has neither. It returns the script's output, or an error with that output when the script fails.
func (s *Stack) Sidecar(ctx context.Context, name, script string) (string, error) {
	t, err := s.container(name)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, faultTimeout)
	defer cancel()
	img := s.Config.Images.Sidecar
	if err := CheckImages(ctx, s.docker, img); err != nil {
		return "", err
	}
	// The sidecar joins the target's network namespace: its iptables rules are the target's.
	text, code, err := s.oneShot(ctx, &container.Config{Image: img, Cmd: []string{"sh", "-ec", script}, Labels: s.labels("sidecar")},
		&container.HostConfig{NetworkMode: container.NetworkMode("container:" + t.ID), CapAdd: []string{"NET_ADMIN"}})
	if err != nil {
		return "", fmt.Errorf("sidecar for %s: %w", name, err)
	}
	if code != 0 {
		return text, fmt.Errorf("sidecar on %s exited %d: %s", name, code, text)
	}
	return text, nil
}

// oneShot runs a short-lived container to its end and removes it: its output (stdout and stderr,
// trimmed) and exit code. cfg carries the run's labels, so that Sweep removes it if the process dies
// before it does.
func (s *Stack) oneShot(ctx context.Context, cfg *container.Config, hc *container.HostConfig) (string, int64, error) {
	cli := s.docker
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: hc})
	if err != nil {
		return "", 0, fmt.Errorf("create: %w", err)
	}
	defer func() {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), faultTimeout)
		_, _ = cli.ContainerRemove(rctx, created.ID, client.ContainerRemoveOptions{Force: true})
		rcancel()
	}()
	wait := cli.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return "", 0, fmt.Errorf("start: %w", err)
	}
	var code int64
	select {
	case r := <-wait.Result:
		code = r.StatusCode
	case err := <-wait.Error:
		return "", 0, fmt.Errorf("wait: %w", err)
	}
	logs, err := cli.ContainerLogs(ctx, created.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	var out bytes.Buffer
	if err == nil {
		_, _ = stdcopy.StdCopy(&out, &out, logs)
		_ = logs.Close()
	}
	return strings.TrimSpace(out.String()), code, nil
}

// HostIP is the host's address on the stack's network: a listener of this process there (a fault's
// proxy) is reachable from NGINX.
func (s *Stack) HostIP() netip.Addr { return s.Gateway }

// SetClockOffset sets an API node's clock offset through the reference API's admin endpoint, at the node's
// address on the run's network (reachable from this host over the Docker bridge; NGINX does not route the
// admin port).
func (s *Stack) SetClockOffset(ctx context.Context, name string, offset time.Duration) error {
	c, err := s.container(name)
	if err != nil {
		return err
	}
	if c.Role != arch.RoleAPI || s.Config.Arch.Service.Custom() || !c.IP.IsValid() {
		return fmt.Errorf("set clock offset on %s: only the reference API's nodes have the admin endpoint", name)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body := fmt.Sprintf(`{"offset":%q}`, offset.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+c.AdminAddr()+"/admin/clock", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("set clock offset on %s: %w", name, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("set clock offset on %s: %s: %s", name, res.Status, bytes.TrimSpace(msg))
	}
	return nil
}
