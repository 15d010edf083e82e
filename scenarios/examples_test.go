package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDeclaredStackExamples loads the declared examples that run in the stack (their runs are Docker tests in
// runner/service_test.go, skipped without Docker): they stay valid, and each keeps the shape its test relies on.
func TestDeclaredStackExamples(t *testing.T) {
	contract, err := Load("../examples/contract.yaml")
	require.NoError(t, err)
	require.True(t, contract.Declared())
	require.Empty(t, contract.Mix, "the contract's ops are declared, none built in")
	require.Equal(t, "chaosbench/naiveshop:dev", contract.Service.Image)
	require.Len(t, contract.Invariants, 2)
	require.Equal(t, "token", contract.Client.Session.Token)
	naive, err := Load("../examples/naiveshop/naiveshop.yaml")
	require.NoError(t, err)
	// Comparable run for run: the same load and faults as the built-in ops' scenario.
	require.Equal(t, naive.Seed, contract.Seed)
	require.Equal(t, naive.Clients, contract.Clients)
	require.Equal(t, naive.Phases, contract.Phases)
	require.Equal(t, naive.Faults, contract.Faults)
	require.Equal(t, naive.Retry, contract.Retry)
	require.Equal(t, naive.Service, contract.Service)

	desk, err := Load("../examples/ticketdesk/ticketdesk-stack.yaml")
	require.NoError(t, err)
	require.True(t, desk.Declared())
	require.Equal(t, "chaosbench/ticketdesk:dev", desk.Service.Image)
	require.Equal(t, "/health", desk.Service.Health)
	require.Equal(t, map[string]string{"TICKETDESK_MODE": "flawed"}, desk.Service.Env)
	require.Len(t, desk.Invariants, 2)
}
