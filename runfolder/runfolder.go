// Package runfolder names every file of a run folder, once. The load engine, the runner, the workers, the
// reports and the CLI build their paths from it, so that a file is renamed in one place and a reader never
// guesses what a writer called it.
//
//	runs/<timestamp>-<name>/     Default; a suite's folder holds one run folder per entry (NN-name/)
//	  summary.json               SummaryFile: every report is rebuilt from it
//	  report.html ...            the reports (results/render names each format's file)
//	  suite.json                 SuiteFile, in a suite's folder
//	  <architecture>/            Arch
//	    records.jsonl            one line per completed request
//	    latency.hlog             HdrHistogram interval log, per op × phase × second
//	    latency.hgrm             the whole run's latency distribution
//	    ledger.json              the write ledger's resources, sessions, clients and order counts
//	    orders.jsonl             the ledger's orders, streamed
//	    worker.json              a loader container's own result (--workers, in each worker's folder)
//	    logs/                    the containers' logs
package runfolder

import (
	"path/filepath"
	"time"
)

// The names of a run folder's files.
const (
	SummaryFile    = "summary.json"
	ReportHTMLFile = "report.html"
	SuiteFile      = "suite.json"
	RecordsFile    = "records.jsonl"
	HLogFile       = "latency.hlog"
	HgrmFile       = "latency.hgrm"
	LedgerFile     = "ledger.json"
	OrdersFile     = "orders.jsonl"
	WorkerFile     = "worker.json"
	LogsDir        = "logs"
)

// Root is where run folders go when the user names none.
const Root = "runs"

// Default is the folder a run or a suite called name writes to when not told: runs/<UTC time>-<name>.
func Default(started time.Time, name string) string {
	return filepath.Join(Root, started.UTC().Format("20060102-150405")+"-"+name)
}

// Run is a run folder (or a suite's).
type Run string

// Summary is the run's summary.json.
func (r Run) Summary() string { return filepath.Join(string(r), SummaryFile) }

// ReportHTML is the run's HTML report.
func (r Run) ReportHTML() string { return filepath.Join(string(r), ReportHTMLFile) }

// Suite is a suite folder's suite.json.
func (r Run) Suite() string { return filepath.Join(string(r), SuiteFile) }

// Arch is the folder of the architecture called name.
func (r Run) Arch(name string) Arch { return Arch(filepath.Join(string(r), name)) }

// Arch is one architecture's folder (the load's Config.RunDir).
type Arch string

func (a Arch) Records() string { return filepath.Join(string(a), RecordsFile) }
func (a Arch) HLog() string    { return filepath.Join(string(a), HLogFile) }
func (a Arch) Hgrm() string    { return filepath.Join(string(a), HgrmFile) }
func (a Arch) Ledger() string  { return filepath.Join(string(a), LedgerFile) }
func (a Arch) Orders() string  { return filepath.Join(string(a), OrdersFile) }
func (a Arch) Worker() string  { return filepath.Join(string(a), WorkerFile) }
func (a Arch) Logs() string    { return filepath.Join(string(a), LogsDir) }

// ArchFiles are an architecture's files relative to the run folder, by the keys summary.json's files map
// uses (results.Arch.Files).
func ArchFiles(name string) map[string]string {
	rel := func(f string) string { return name + "/" + f }
	return map[string]string{"hgrm": rel(HgrmFile), "records": rel(RecordsFile), "ledger": rel(LedgerFile),
		"orders": rel(OrdersFile), "hlog": rel(HLogFile), "logs": rel(LogsDir)}
}
