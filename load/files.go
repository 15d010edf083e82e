package load

// The files a run writes in Config.RunDir, named once: the runner, the
// checker and the reports find them by these names (Result.Files holds their
// paths for one run).
const (
	RecordsFileName = "records.jsonl" // one line per completed request (record.go)
	HLogFileName    = "latency.hlog"  // HdrHistogram interval log, per op × phase × second
	LedgerFileName  = "ledger.json"   // the write ledger's resources, sessions and order counts
	OrdersFileName  = "orders.jsonl"  // the ledger's orders, streamed
)
