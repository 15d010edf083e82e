//go:build race

package load

// stallRate is TestStalledTargetIsMeasuredNotShed's rate. Under the race
// detector every new goroutine costs tsan shadow memory (ShadowSet was 20%
// of the CPU profile), and at 400/s the engine is genuinely overloaded once
// the stall ends: run with the whole package, it stayed behind for
// 0.8-1.4 s while in-flight work kept growing (answers 33-60% of the
// schedule), which the limit is right to cut. 200/s still leaves 400
// requests in flight, above limitFloor.
const stallRate = 200
