package stack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	mnet "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// roleLoader is the role label of a loader container (`chaosbench run --workers`).
const roleLoader = "loader"

// Loader is one loader container to start on the stack's network: the command it runs (a chaosbench
// worker), the host folder mounted at /out for what it writes, and more read-only mounts ("host:ctr:ro").
type Loader struct {
	Cmd   []string
	Out   string
	Binds []string
}

// Loaders are the loader containers of one run, created by the stack (they carry its run label, so Down
// and Sweep remove them on any path) and driven through it: start, wait, stop, remove.
type Loaders struct {
	s     *Stack
	ids   []string
	waits []client.ContainerWaitResult
}

// CreateLoaders creates one container of image per loader on the stack's network, not started. Files in
// the mounted folders belong to whoever runs chaosbench, not to the image's nobody.
func (s *Stack) CreateLoaders(ctx context.Context, image string, loaders []Loader) (*Loaders, error) {
	if err := CheckImages(ctx, s.docker, image); err != nil {
		return nil, err
	}
	l := &Loaders{s: s, ids: make([]string, len(loaders))}
	for i, ld := range loaders {
		created, err := s.docker.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name: "chaosbench-" + s.RunID + "-" + roleLoader + "-" + strconv.Itoa(i),
			Config: &container.Config{Image: image, Cmd: ld.Cmd,
				// The run label is what Down and Sweep remove by; the role says what it is in `docker ps`.
				Labels: map[string]string{LabelRun: s.RunID, labelRole: roleLoader},
				User:   strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid())},
			HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(s.Network),
				Binds: append([]string{ld.Out + ":/out"}, ld.Binds...)},
			NetworkingConfig: &mnet.NetworkingConfig{EndpointsConfig: map[string]*mnet.EndpointSettings{s.Network: {}}},
		})
		if err != nil {
			l.Remove(ctx)
			return nil, fmt.Errorf("create loader %d: %w", i, err)
		}
		l.ids[i] = created.ID
	}
	return l, nil
}

// Start starts every loader; their exits are watched under waitCtx (which may outlive ctx: an interrupted
// run still waits for its loaders to write what they measured).
func (l *Loaders) Start(ctx, waitCtx context.Context) error {
	l.waits = make([]client.ContainerWaitResult, len(l.ids))
	for i, id := range l.ids {
		l.waits[i] = l.s.docker.ContainerWait(waitCtx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
		if _, err := l.s.docker.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
			return fmt.Errorf("start loader %d: %w", i, err)
		}
	}
	return nil
}

// LogName is loader i's log file in the architecture's logs folder.
func LogName(i int) string { return roleLoader + "-" + strconv.Itoa(i) + ".log" }

// Wait waits for every started loader to exit, saves each one's log in logDir (LogName) and returns their
// exit codes, with an error for a loader that could not be waited for or that failed while ctx was live
// (quoting its log's end, where it says why it stopped).
func (l *Loaders) Wait(ctx context.Context, logDir string) ([]int64, []error) {
	codes, errs := make([]int64, len(l.ids)), make([]error, len(l.ids))
	var wg sync.WaitGroup
	for i := range l.ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], errs[i] = l.wait(ctx, i, logDir)
		}()
	}
	wg.Wait()
	return codes, errs
}

func (l *Loaders) wait(ctx context.Context, i int, logDir string) (int64, error) {
	var code int64
	var werr error
	select {
	case r := <-l.waits[i].Result:
		code = r.StatusCode
	case err := <-l.waits[i].Error:
		werr = err
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if rc, err := l.s.docker.ContainerLogs(lctx, l.ids[i], client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true}); err == nil {
		_, _ = stdcopy.StdCopy(&out, &out, rc)
		_ = rc.Close()
	}
	if err := os.MkdirAll(logDir, 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(logDir, LogName(i)), out.Bytes(), 0o644)
	}
	switch {
	case werr != nil:
		return code, fmt.Errorf("wait for loader %d: %w", i, werr)
	case code != 0 && ctx.Err() == nil:
		return code, fmt.Errorf("loader %d exited %d: %s", i, code, tail(out.String(), 600))
	}
	return code, nil
}

// Stop sends every loader SIGTERM, as a signal to chaosbench does (they write what they measured and
// exit), and SIGKILL past grace.
func (l *Loaders) Stop(grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace+callTimeout)
	defer cancel()
	secs := int(grace.Seconds())
	var wg sync.WaitGroup
	for _, id := range l.ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = l.s.docker.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &secs})
		}()
	}
	wg.Wait()
}

// Remove removes the loaders (Down would too: they carry the run label).
func (l *Loaders) Remove(ctx context.Context) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, id := range l.ids {
		if id != "" {
			_, _ = l.s.docker.ContainerRemove(rctx, id, client.ContainerRemoveOptions{Force: true})
		}
	}
}

// tail is the end of s, at most n bytes, trimmed.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
