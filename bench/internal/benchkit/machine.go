package benchkit

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The machines are shared: other people's builds and tests take CPU from a
// benchmark at random moments, and that only ever makes a tool look worse.
// A Watch measures how much of the machine went to everything other than
// the benchmark (the loader, the target server and this harness) over one
// trial, so that a trial can say it was disturbed.

// clockTick is USER_HZ, the unit of /proc/stat and /proc/PID/stat: 100 on
// every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// Watch is a reading taken before a trial.
type Watch struct {
	at       time.Time
	busy     time.Duration // all CPUs, /proc/stat
	server   time.Duration // the target process
	self     time.Duration // this process
	serverID int
}

// StartWatch reads the clocks; serverPID is the target's process (0: none).
func StartWatch(serverPID int) Watch {
	return Watch{at: time.Now(), busy: machineBusy(), server: processCPU(serverPID), self: selfCPU(), serverID: serverPID}
}

// Others is the share of the machine (0..1 of all its CPUs) that went to
// other processes since the watch started, given the loader's own CPU time
// from its rusage. The steal time of a virtual machine counts as others'.
// It returns -1 when /proc cannot be read.
func (w Watch) Others(loader time.Duration) float64 {
	busy := machineBusy()
	if busy == 0 || w.busy == 0 {
		return -1
	}
	ours := loader + (processCPU(w.serverID) - w.server) + (selfCPU() - w.self)
	capacity := float64(time.Since(w.at)) * float64(runtime.NumCPU())
	return max(0, float64(busy-w.busy-ours)/capacity)
}

// machineBusy is the CPU time all CPUs spent on anything but idle and
// iowait since boot.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	// user nice system idle iowait irq softirq steal (guest is inside user)
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * clockTick
}

// processCPU is a live process's user+system time (0 if it cannot be read).
func processCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name is in parentheses and may hold spaces: fields
	// count from the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * clockTick
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
