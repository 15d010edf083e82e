package results_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
)

// refuser answers orders and refuses resource values outright, as a declared scenario without a counter
// invariant does.
type refuser struct{}

func (refuser) OrdersByKey(_ context.Context, keys []string) ([]int64, error) {
	return make([]int64, len(keys)), nil
}
func (refuser) OrdersByRequestID(context.Context, []string) ([]int64, error) {
	return nil, results.ErrUnanswerable
}
func (refuser) ResourceValues(context.Context, []string) ([]int64, error) {
	return nil, results.ErrUnanswerable
}
func (refuser) Refuses(f results.Fact) error {
	if f == results.ResourceValues {
		return errors.New("no counter invariant")
	}
	return nil
}

// A fact the truth refuses up front leaves its checks not checked even when the ledger holds no entry that
// would have asked for it: without this, updates.lost read 0 for a scenario that checked no counter.
func TestRefusedFactIsNotCheckedWithoutEntries(t *testing.T) {
	f, err := results.CheckLedger(context.Background(), refuser{}, load.LedgerSnapshot{})
	require.NoError(t, err)
	require.Contains(t, f["updates.lost"].NotChecked, "no counter invariant")
	require.Empty(t, f["writes.lost"].NotChecked, "orders are answered")
}
