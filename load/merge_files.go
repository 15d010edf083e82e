package load

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/runfolder"
)

// WorkerFileVersion is bumped on any incompatible change of worker.json.
const WorkerFileVersion = 1

type workerFile struct {
	Version     int         `json:"version"`
	Worker      WorkerInfo  `json:"worker"`
	Result      *Result     `json:"result"`
	Hist        []histEntry `json:"hist"`
	ServiceHist []histEntry `json:"service_hist"`
	// Harness holds Result.Harness's histograms: op "harness", phase "send_lag" or a Stage's name.
	Harness []histEntry `json:"harness,omitempty"`
}

// histEntry is one histogram in HdrHistogram's compressed V2 encoding (base64), the hlog's.
type histEntry struct {
	Op    string `json:"op"`
	Phase string `json:"phase"`
	Hist  string `json:"hist"`
}

// WriteWorker writes worker.json into dir, the run folder of res (Config.RunDir), with the worker's
// clock offset, and sets res.Workers to this one worker.
func WriteWorker(dir string, res *Result, clock ClockOffset) error {
	info := WorkerInfo{Segment: res.Segment, RunID: res.RunID, Seed: res.Seed, Start: res.Start, Clock: clock,
		Totals: res.Totals}
	res.Workers = []WorkerInfo{info}
	wf := workerFile{Version: WorkerFileVersion, Worker: info, Result: res}
	var err error
	if wf.Hist, err = encodeHists(res.Hist); err != nil {
		return err
	}
	if wf.ServiceHist, err = encodeHists(res.ServiceHist); err != nil {
		return err
	}
	if wf.Harness, err = encodeHists(res.Harness.hists()); err != nil {
		return err
	}
	b, err := json.MarshalIndent(wf, "", " ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", runfolder.WorkerFile, err)
	}
	path := runfolder.Arch(dir).Worker()
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadWorker reads a worker's run folder back into its Result, ready for Merge: the files are dir's
// (the folder may have moved since the worker wrote it, from a container to the host say).
func ReadWorker(dir string) (*Result, error) {
	path := runfolder.Arch(dir).Worker()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read worker: %w", err)
	}
	var wf workerFile
	if err := json.Unmarshal(b, &wf); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	if wf.Version != WorkerFileVersion || wf.Result == nil {
		return nil, fmt.Errorf("%s: version %d with no result, want version %d", path, wf.Version, WorkerFileVersion)
	}
	res := wf.Result
	if res.Hist, err = decodeHists(wf.Hist); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if res.ServiceHist, err = decodeHists(wf.ServiceHist); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	hs, err := decodeHists(wf.Harness)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	res.Harness.setHists(hs)
	res.Workers = []WorkerInfo{wf.Worker}
	res.Files = FilesIn(dir)
	if res.Ledger, err = ReadLedger(res.Files.Ledger); err != nil {
		return nil, err
	}
	return res, nil
}

func encodeHists(m map[HistKey]*hdrhistogram.Histogram) ([]histEntry, error) {
	out := make([]histEntry, 0, len(m))
	for k, h := range m {
		b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			return nil, fmt.Errorf("encode histogram %s/%s: %w", k.Op, k.Phase, err)
		}
		out = append(out, histEntry{Op: k.Op, Phase: k.Phase, Hist: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Op+"\x00"+out[i].Phase < out[j].Op+"\x00"+out[j].Phase })
	return out, nil
}

func decodeHists(es []histEntry) (map[HistKey]*hdrhistogram.Histogram, error) {
	m := make(map[HistKey]*hdrhistogram.Histogram, len(es))
	for _, e := range es {
		h, err := hdrhistogram.Decode([]byte(e.Hist))
		if err != nil {
			return nil, fmt.Errorf("decode histogram %s/%s: %w", e.Op, e.Phase, err)
		}
		m[HistKey{e.Op, e.Phase}] = h
	}
	return m, nil
}
