package arch

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStore(t *testing.T) {
	a, err := Preset("stateless-postgres")
	require.NoError(t, err)
	require.True(t, a.UsesPostgres())
	require.Empty(t, a.Validate())
	require.Equal(t, "postgres", a.APIEnv()["STORE"])
	s, _ := Preset("stateless")
	require.NotContains(t, s.APIEnv(), "STORE", "the redis store's environment is as it always was")

	for _, tc := range []struct {
		arch Arch
		want string
	}{
		{Arch{Store: "mysql"}, `store "mysql": want redis or postgres`}, // a store the API does not have
		// a user's image keeps its own state: chaosbench cannot put it in PostgreSQL
		{Arch{Store: StorePostgres, Service: Service{Image: "shop:dev"}}, "custom image (shop:dev)"},
		// a standby replicates a PostgreSQL server: an architecture that keeps its orders in Redis has none
		{Arch{Name: "stateless", PostgresStandby: StandbySync}, "postgres_standby sync needs PostgreSQL: architecture stateless"},
		// PostgreSQL's replication is asynchronous or synchronous, nothing else
		{Arch{Store: StorePostgres, PostgresStandby: "quorum"}, `postgres_standby "quorum": want async or sync`},
	} {
		require.ErrorContains(t, tc.arch.CheckStore(), tc.want)
	}

	for _, tc := range []struct{ replicas, want int }{
		{1, 32}, // capped: more connections than cores only queue inside PostgreSQL
		{3, 30}, // (100 - 10 reserved) / 3
		{9, 10}, // the scenario's maximum of nodes still fits max_connections
		{0, 32}, // no count: one node's share
	} {
		require.Equal(t, tc.want, PostgresPoolSize(tc.replicas), "replicas %d", tc.replicas)
	}
	env := PostgresEnv([]netip.Addr{netip.MustParseAddr("10.213.4.10")}, 3)
	require.Equal(t, "postgres://postgres@10.213.4.10:5432/postgres?sslmode=disable&connect_timeout=2", env["POSTGRES_DSN"])
	require.Equal(t, "30", env["POSTGRES_POOL_SIZE"])
	// With a standby the nodes name both servers, primary first, and keep the one that takes writes.
	env = PostgresEnv([]netip.Addr{netip.MustParseAddr("10.213.4.10"), netip.MustParseAddr("10.213.4.9")}, 3)
	require.Equal(t, "postgres://postgres@10.213.4.10:5432,10.213.4.9:5432/postgres?sslmode=disable&connect_timeout=1"+
		"&target_session_attrs=read-write", env["POSTGRES_DSN"])
}
