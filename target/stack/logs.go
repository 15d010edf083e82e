package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chaosbench/chaosbench/target/arch"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// SaveLogs writes every container's output into dir, one file per container (api-1.log, redis.log,
// nginx.log), with timestamps: when a verdict surprises, the logs say what the nodes saw. It keeps going
// past a container whose logs cannot be read and returns what failed.
func (s *Stack) SaveLogs(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save logs: %w", err)
	}
	var errs []error
	for _, c := range s.Containers() {
		if err := s.saveLog(ctx, c, filepath.Join(dir, c.Name+".log")); err != nil {
			errs = append(errs, fmt.Errorf("logs of %s: %w", c.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Stack) saveLog(ctx context.Context, c arch.Container, path string) error {
	rc, err := s.docker.ContainerLogs(ctx, c.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true})
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = stdcopy.StdCopy(f, f, rc)
	return errors.Join(err, f.Close())
}
