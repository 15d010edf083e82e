package k8srun

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/k8s"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
)

// execIn runs cmd in a container of pod through the API (the exec subresource, streamed over SPDY, as
// kubectl exec can) and writes its standard output to stdout.
func (c *Cluster) execIn(ctx context.Context, pod, container string, stdout io.Writer, cmd ...string) error {
	req := c.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(c.ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	// SPDY, the exec protocol every kubelet and API server speak (kubectl tries WebSocket first).
	exec, err := remotecommand.NewSPDYExecutor(streamConfig(c.rc), "POST", req.URL())
	if err != nil {
		return fmt.Errorf("exec in %s/%s: %w", pod, container, err)
	}
	var stderr bytes.Buffer
	if err := exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: stdout, Stderr: &stderr}); err != nil {
		return fmt.Errorf("exec %s in %s/%s: %w: %s", strings.Join(cmd, " "), pod, container, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// collect copies a worker's files out of its pod's outbox (tar through the exec stream: the outbox
// container outlives the worker, so its emptyDir can be read) into dir, then tells the outbox they are
// collected, so that it exits and the pod completes.
func (c *Cluster) collect(ctx context.Context, pod, dir string) error {
	// A few tries: a stream cut by the API server or the kubelet is copied again, whole.
	return poll.Retry(ctx, 4, 2*time.Second, func(ctx context.Context) (bool, error) {
		err := c.collectOnce(ctx, pod, dir)
		return err == nil || ctx.Err() != nil, err
	})
}

func (c *Cluster) collectOnce(ctx context.Context, pod, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := untar(pr, dir)
		// tar pads its archive past the end marker (to a 10 KiB record): read it all, or the stream's
		// copier blocks on the pipe and the exec never ends.
		_, _ = io.Copy(io.Discard, pr)
		done <- err
	}()
	err := c.execIn(ctx, pod, "outbox", pw, "tar", "cf", "-", "-C", "/out", ".")
	pw.CloseWithError(err)
	if uerr := <-done; err == nil && uerr != nil {
		err = fmt.Errorf("collect from %s: %w", pod, uerr)
	}
	if err != nil {
		return err
	}
	return c.execIn(ctx, pod, "outbox", io.Discard, "touch", "/out/"+k8s.CollectedFile)
}

// untar writes the regular files of a tar stream into dir, refusing any path that would leave it.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if name == "." || h.Typeflag == tar.TypeDir {
			continue
		}
		if h.Typeflag != tar.TypeReg || filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
			return fmt.Errorf("unexpected entry %q in the outbox", h.Name)
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
}

// saveLog writes a container's log (as the kubelet keeps it) to path, with a few tries.
func (c *Cluster) saveLog(ctx context.Context, pod, container, path string) error {
	return poll.Retry(ctx, 3, 2*time.Second, func(ctx context.Context) (bool, error) {
		err := c.saveLogOnce(ctx, pod, container, path)
		return err == nil || ctx.Err() != nil, err
	})
}

func (c *Cluster) saveLogOnce(ctx context.Context, pod, container, path string) error {
	rc, err := c.cs.CoreV1().Pods(c.ns).GetLogs(pod, &corev1.PodLogOptions{Container: container}).Stream(ctx)
	if err != nil {
		return fmt.Errorf("log of %s/%s: %w", pod, container, err)
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, rc)
	return errors.Join(err, f.Close())
}

// podsOf lists ns's pods of a component, any state.
func (c *Cluster) podsOf(ctx context.Context, component string) ([]corev1.Pod, error) {
	l, err := c.cs.CoreV1().Pods(c.ns).List(ctx, metav1.ListOptions{LabelSelector: labelComp + "=" + component})
	if err != nil {
		return nil, fmt.Errorf("list %s pods: %w", component, err)
	}
	return l.Items, nil
}

// streamConfig is rc for a stream (exec, port-forward): without the client's overall timeout, which would
// cut a stream that outlives it; the caller's context bounds it instead.
func streamConfig(rc *rest.Config) *rest.Config {
	cp := rest.CopyConfig(rc)
	cp.Timeout = 0
	return cp
}
