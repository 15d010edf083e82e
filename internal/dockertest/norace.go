//go:build !race

package dockertest

// RaceDetector reports whether the test binary was built with -race.
const RaceDetector = false
