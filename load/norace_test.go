//go:build !race

package load

// stallRate is TestStalledTargetIsMeasuredNotShed's rate (see race_test.go).
const stallRate = 400
