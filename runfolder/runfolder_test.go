package runfolder

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLayout(t *testing.T) {
	r := Run("runs/x")
	a := r.Arch("stateless")
	for _, c := range []struct{ got, want string }{
		{r.Summary(), "runs/x/summary.json"}, // what every report is rebuilt from
		{r.Suite(), "runs/x/suite.json"},     // a suite's folder
		{a.Records(), "runs/x/stateless/records.jsonl"},
		{a.Ledger(), "runs/x/stateless/ledger.json"},
		{a.Logs(), "runs/x/stateless/logs"},
		// The default folder is the UTC start time and the name.
		{Default(time.Date(2026, 12, 7, 13, 4, 5, 0, time.FixedZone("x", 3600)), "kill-node"), "runs/20261207-120405-kill-node"},
	} {
		require.Equal(t, c.want, c.got)
	}
	// summary.json's files map names the same files relative to the run folder.
	require.Equal(t, "stateless/records.jsonl", ArchFiles("stateless")["records"])
	require.Equal(t, "stateless/logs", ArchFiles("stateless")["logs"])
}
