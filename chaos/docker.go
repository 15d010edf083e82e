package chaos

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/chaosbench/chaosbench/target/stack"
)

// dockerTimeout bounds one Docker call made by a fault.
const dockerTimeout = 30 * time.Second

// startContainer starts a stopped or killed container again (the revert of kill and stop). Its fixed IP
// and, for NGINX and Redis, its host port are kept.
func startContainer(ctx context.Context, env *Env, id string) error {
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	if _, err := env.Docker().ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", id[:12], err)
	}
	return nil
}

// sidecar runs a shell script in a short-lived container that shares t's network namespace, with
// NET_ADMIN, from the image that has iptables and tc: the API image is FROM scratch and has neither. It
// returns the script's output, or an error with that output when the script fails.
func sidecar(ctx context.Context, env *Env, t Target, script string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	cli := env.Docker()
	img := env.Stack.Config.Images.Sidecar
	if err := stack.CheckImages(ctx, cli, img); err != nil {
		return "", err
	}
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{
			Image:  img,
			Cmd:    []string{"sh", "-ec", script},
			Labels: map[string]string{stack.LabelRun: env.Stack.RunID, "chaosbench.role": "sidecar"},
		},
		// The sidecar joins the target's network namespace: its iptables rules are the target's.
		HostConfig: &container.HostConfig{
			NetworkMode: container.NetworkMode("container:" + t.ID),
			CapAdd:      []string{"NET_ADMIN"},
		},
	})
	if err != nil {
		return "", fmt.Errorf("create sidecar for %s: %w", t.Name, err)
	}
	defer func() {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), dockerTimeout)
		_, _ = cli.ContainerRemove(rctx, created.ID, client.ContainerRemoveOptions{Force: true})
		rcancel()
	}()
	wait := cli.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return "", fmt.Errorf("start sidecar for %s: %w", t.Name, err)
	}
	var code int64
	select {
	case r := <-wait.Result:
		code = r.StatusCode
	case err := <-wait.Error:
		return "", fmt.Errorf("wait for sidecar on %s: %w", t.Name, err)
	}
	logs, err := cli.ContainerLogs(ctx, created.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	var out bytes.Buffer
	if err == nil {
		_, _ = stdcopy.StdCopy(&out, &out, logs)
		_ = logs.Close()
	}
	text := strings.TrimSpace(out.String())
	if code != 0 {
		return text, fmt.Errorf("sidecar on %s exited %d: %s", t.Name, code, text)
	}
	return text, nil
}
