package benchkit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// VegetaInstall is how the Makefile installs the vegeta CLI.
const VegetaInstall = "go install github.com/tsenart/vegeta/v12@v12.13.0 (make bench-load does it)"

// Vegeta is the vegeta CLI.
type Vegeta struct{ Bin string }

// Attack runs `vegeta attack` alone (so that its rusage is the attack's)
// at rate/s for d against GET url/, writing results into dir. Bodies are
// not kept (-max-body=0); workers are vegeta's defaults (10 to start,
// unbounded), so it may open as many connections as it needs.
func (v Vegeta) Attack(dir, url string, rate int, d, timeout time.Duration) (string, Usage, error) {
	res := filepath.Join(dir, "results.bin")
	args := []string{"attack", "-rate=" + strconv.Itoa(rate) + "/s", "-duration=" + d.String(),
		"-max-body=0", "-output=" + res}
	if timeout > 0 {
		args = append(args, "-timeout="+timeout.String())
	}
	cmd := exec.Command(v.Bin, args...)
	cmd.Stdin = strings.NewReader("GET " + url + "/\n")
	_, u, err := Run(cmd)
	if err != nil {
		return "", u, fmt.Errorf("vegeta attack at %d/s: %w", rate, err)
	}
	return res, u, nil
}

// VegetaReport is the part of `vegeta report -type=json` we print.
type VegetaReport struct {
	Requests  int64 `json:"requests"`
	Latencies struct {
		P50 time.Duration `json:"50th"`
		P99 time.Duration `json:"99th"`
		Max time.Duration `json:"max"`
	} `json:"latencies"`
	StatusCodes map[string]int64 `json:"status_codes"`
	Errors      []string         `json:"errors"`
}

// Report runs `vegeta report -type=json` on a results file: vegeta's own
// figures (latency stamped from the actual send).
func (v Vegeta) Report(res string) (VegetaReport, error) {
	out, _, err := Run(exec.Command(v.Bin, "report", "-type=json", res))
	if err != nil {
		return VegetaReport{}, err
	}
	var r VegetaReport
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("vegeta report: %w", err)
	}
	return r, nil
}

// Hit is one vegeta result.
type Hit struct {
	Seq     int64
	Sent    int64 // unix ns: vegeta's Timestamp, the actual send
	Latency time.Duration
	Code    int
}

// Hits decodes a results file (`vegeta encode -to=csv`).
func (v Vegeta) Hits(res string) ([]Hit, error) {
	enc := exec.Command(v.Bin, "encode", "-to=csv", res)
	pipe, err := enc.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("vegeta encode pipe: %w", err)
	}
	if err := enc.Start(); err != nil {
		return nil, fmt.Errorf("vegeta encode: %w", err)
	}
	var hits []Hit
	rd := csv.NewReader(pipe)
	rd.FieldsPerRecord = -1
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			_ = enc.Wait()
			return nil, fmt.Errorf("vegeta csv: %w", err)
		}
		if len(rec) < 9 {
			continue
		}
		ts, _ := strconv.ParseInt(rec[0], 10, 64)
		code, _ := strconv.Atoi(rec[1])
		lat, _ := strconv.ParseInt(rec[2], 10, 64)
		seq, _ := strconv.ParseInt(rec[8], 10, 64)
		hits = append(hits, Hit{Seq: seq, Sent: ts, Latency: time.Duration(lat), Code: code})
	}
	if err := enc.Wait(); err != nil {
		return nil, fmt.Errorf("vegeta encode: %w", err)
	}
	return hits, nil
}

// Schedule reconstructs vegeta's plan: its ConstantPacer sends hit k at
// began + (k+1)/rate. began is not in the results; it is estimated as the
// earliest value consistent with every timestamp (no hit sent before its
// plan), which is the reading most favourable to vegeta.
func Schedule(hits []Hit, rate int) (began int64, interval float64) {
	interval = float64(time.Second) / float64(rate)
	began = int64(math.MaxInt64)
	for _, h := range hits {
		if b := h.Sent - int64(float64(h.Seq+1)*interval); b < began {
			began = b
		}
	}
	return began, interval
}

// Lateness is how long after its planned time hit h was sent.
func Lateness(h Hit, began int64, interval float64) time.Duration {
	return time.Duration(h.Sent - began - int64(float64(h.Seq+1)*interval))
}
