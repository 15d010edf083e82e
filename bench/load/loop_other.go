//go:build !linux

package main

import (
	"errors"
	"time"
)

type loopResult struct{}

func runLoop(string, int, time.Duration, int) (loopResult, error) {
	return loopResult{}, errors.New("the event-loop prototype is Linux only (epoll, timerfd)")
}
