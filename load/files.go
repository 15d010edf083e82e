package load

import (
	"bufio"
	"fmt"
	"os"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/runfolder"
)

// runFiles is a run's folder: records.jsonl and latency.hlog, written by
// the aggregator goroutine alone (record, interval, flush), orders.jsonl,
// which the ledger streams, and ledger.json at the end. A nil *runFiles (no
// RunDir) writes nothing. It keeps the first write error for close.
type runFiles struct {
	dir   string
	rw    *recordWriter
	hlogF *os.File
	hlogW *bufio.Writer
	hlog  *hdrhistogram.HistogramLogWriter
	err   error
}

// createRunFiles creates dir and the files streamed during the run; the
// ledger, if given, streams its orders there. dir "" gives nil.
func createRunFiles(dir string, ledger *Ledger) (*runFiles, error) {
	if dir == "" {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run dir: %w", err)
	}
	rw, err := newRecordWriter(runfolder.Arch(dir).Records())
	if err != nil {
		return nil, err
	}
	f := &runFiles{dir: dir, rw: rw}
	hf, err := os.Create(runfolder.Arch(dir).HLog())
	if err != nil {
		_ = rw.close()
		return nil, fmt.Errorf("create hlog: %w", err)
	}
	f.hlogF, f.hlogW = hf, bufio.NewWriter(hf)
	f.hlog = hdrhistogram.NewHistogramLogWriter(f.hlogW)
	if ledger != nil {
		if err := ledger.stream(runfolder.Arch(dir).Orders()); err != nil {
			_ = f.close()
			return nil, err
		}
	}
	return f, nil
}

func (f *runFiles) setErr(err error) {
	if f.err == nil && err != nil {
		f.err = err
	}
}

// begin writes the hlog's header once the run's clock has started.
func (f *runFiles) begin(startMs int64) {
	if f == nil {
		return
	}
	// Values are microseconds; the hlog "max" column is therefore in seconds
	// (the library divides by 1e6). Interval timestamps are relative to
	// BaseTime, which the library writes in whole seconds: the offsets are
	// taken from that whole second too, so that a reader adding the two gets
	// each window's absolute time to the millisecond (the workers' windows
	// merge by it). Offsets from startMs itself were read back up to 1 s early.
	base := startMs - startMs%1000
	_ = f.hlog.OutputLogFormatVersion()
	_ = f.hlog.OutputComment("chaosbench load: latency from planned send time, microseconds; tag=op/phase, 1 s windows by planned time")
	_ = f.hlog.OutputStartTime(startMs)
	_ = f.hlog.OutputBaseTime(base)
	f.hlog.SetBaseTime(base)
	_ = f.hlog.OutputLegend()
}

// record appends r to records.jsonl.
func (f *runFiles) record(r *Record) {
	if f != nil {
		f.setErr(f.rw.write(r))
	}
}

// interval appends a closed window (tag and times set) to latency.hlog.
func (f *runFiles) interval(h *hdrhistogram.Histogram) {
	if f != nil {
		f.setErr(f.hlog.OutputIntervalHistogram(h))
	}
}

// flush pushes what is buffered to disk: a crash loses at most what came
// since the last flush (the aggregator flushes every second).
func (f *runFiles) flush() {
	if f == nil {
		return
	}
	f.setErr(f.rw.flush())
	f.setErr(f.hlogW.Flush())
}

// close flushes and closes the streamed files and returns the first error
// any write met.
func (f *runFiles) close() error {
	if f == nil {
		return nil
	}
	f.setErr(f.rw.close())
	f.setErr(f.hlogW.Flush())
	f.setErr(f.hlogF.Close())
	return f.err
}

// paths names the run's files for Result.Files.
func (f *runFiles) paths() Files {
	if f == nil {
		return Files{}
	}
	return FilesIn(f.dir)
}
