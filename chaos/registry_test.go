package chaos

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/target/arch"
)

func TestRegistry(t *testing.T) {
	// Every fault of the issue is registered under its scenario name.
	require.Equal(t, []string{"cache-invalidation-loss", "clock-skew", "kill", "latency", "packet-loss", "partition", "pause", "postgres-failover", "postgres-link", "postgres-outage", "redis-failover", "redis-link", "redis-memory-pressure",
		"redis-outage", "redis-reshard", "redis-split-brain", "response-loss", "restart", "stop"}, Names())

	r := &Registry{}
	kill := func(Params) (Fault, error) { return &Kill{}, nil }
	r.Register(Kind{Name: "x", Roles: arch.Roles, New: kill})
	require.Panics(t, func() { r.Register(Kind{Name: "x", Roles: arch.Roles, New: kill}) },
		"a duplicate name is refused loudly")
	require.Panics(t, func() { r.Register(Kind{Name: "z", New: kill}) },
		"a fault that declares no role would accept every target")
	_, err := r.New("y", nil)
	require.ErrorContains(t, err, `unknown fault "y"`)
}

func TestCheckTarget(t *testing.T) {
	tests := []struct {
		fault, target string
		err           string // "" when the fault can hit the target
	}{
		{"kill", "api-2", ""},      // any container can be killed
		{"kill", "nginx", ""},      // the balancer too
		{"pause", "redis", ""},     // and Redis
		{"latency", "any-api", ""}, // API nodes only
		{"latency", "nginx", "latency cannot target nginx (NGINX): it targets API nodes"},
		{"redis-outage", "redis", ""}, // its one role
		{"redis-outage", "api-1", "redis-outage cannot target api-1 (an API node): it targets redis"},
		{"redis-memory-pressure", "any-api", "it targets redis"},
		{"partition", "api-3", ""}, // an API node cut off from a peer
		{"partition", "redis", "partition cannot target redis"},
		{"clock-skew", "any-api", ""}, // an API node's clock
		{"clock-skew", "redis", "clock-skew cannot target redis (Redis): it targets API nodes"},
		{"kill", "postgres", ""},                       // a store: postgres architecture's server (scenarios checks the architecture)
		{"kill", "mysql", "no container of the stack"}, // not a container of the stack
		{"postgres-outage", "postgres", ""},            // its one role
		{"postgres-link", "api-1", ""},                 // one node's link to PostgreSQL
		{"postgres-link", "postgres", ""},              // every node's
		{"postgres-link", "redis", "postgres-link cannot target redis (Redis)"},
		{"postgres-outage", "redis", "postgres-outage cannot target redis (Redis): it targets postgres"},
		{"postgres-failover", "postgres", ""}, // the primary of the moment, whatever its name now
		{"postgres-link", "postgres-2", ""},   // the standby's replication link
		{"kill", "postgres-2", ""},            // the container-wide faults take the standby too
		{"postgres-outage", "postgres-2", "postgres-outage cannot target postgres-2 (the PostgreSQL standby): it targets postgres"},
		{"postgres-failover", "postgres-2", "postgres-failover cannot target postgres-2 (the PostgreSQL standby): it targets postgres"},
		{"kill", "redis-2", ""},           // a Redis HA stack's replica
		{"pause", "sentinel-1", ""},       // and its Sentinels
		{"packet-loss", "sentinel-3", ""}, // the container-wide faults take every role
		// The Redis-wide faults act on "the stack's Redis" whatever the target: aimed at a replica they
		// would hit another container than the scenario names, so they are refused there.
		{"redis-outage", "redis-3", "redis-outage cannot target redis-3 (a Redis replica): it targets redis"},
		{"redis-failover", "sentinel-2", "redis-failover cannot target sentinel-2 (a Redis Sentinel): it targets redis"},
		{"redis-split-brain", "redis", ""}, // the primary of the moment
		{"redis-split-brain", "api-1", "redis-split-brain cannot target api-1 (an API node): it targets redis"},
		{"redis-link", "api-2", ""}, // one node's link to Redis
		{"redis-link", "redis", ""}, // every node's link to Redis
		{"redis-link", "redis-2", "redis-link cannot target redis-2 (a Redis replica): it targets API nodes (any-api, api-N) or redis"},
		{"redis-link", "nginx", "redis-link cannot target nginx (NGINX)"},
		{"cache-invalidation-loss", "any-api", ""}, // one node's invalidations
		{"cache-invalidation-loss", "redis", ""},   // every node's
		{"cache-invalidation-loss", "postgres", "cache-invalidation-loss cannot target postgres (PostgreSQL)"},
		{"explode", "api-1", `unknown fault "explode"`},
	}
	for _, tt := range tests {
		t.Run(tt.fault+"/"+tt.target, func(t *testing.T) {
			err := CheckTarget(tt.fault, tt.target)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}

func TestFaultParams(t *testing.T) {
	tests := []struct {
		fault  string
		params Params
		ok     bool
	}{
		{"packet-loss", Params{"percent": "30"}, true},
		{"packet-loss", Params{"percent": "30%"}, true},    // a percent sign is fine
		{"packet-loss", Params{"percent": "0"}, false},     // nothing to drop
		{"packet-loss", Params{"percent": "101"}, false},   // over 100
		{"packet-loss", Params{"percentage": "30"}, false}, // typo: unknown parameter
		{"latency", Params{"delay": "200ms", "jitter": "50ms"}, true},
		{"latency", Params{"delay": "0s"}, false},   // no delay is no fault
		{"latency", Params{"delay": "fast"}, false}, // not a duration
		{"partition", Params{"from": "nginx"}, true},
		{"partition", Params{"from": "postgres"}, false}, // no such peer
		{"redis-outage", Params{"mode": "pause"}, true},
		{"redis-outage", Params{"mode": "drop"}, false}, // kill or pause only
		{"redis-memory-pressure", Params{"maxmemory": "1mb", "policy": "allkeys-lfu"}, true},
		{"redis-memory-pressure", Params{"policy": "lru"}, false}, // not a Redis policy
		{"stop", Params{"grace": "2s"}, true},
		{"kill", Params{"signal": "TERM"}, false},                    // kill takes no parameter
		{"clock-skew", Params{"offset": "30s"}, true},                // ahead
		{"clock-skew", Params{"offset": "-90s"}, true},               // behind: a negative duration is allowed here
		{"clock-skew", nil, false},                                   // the offset is required
		{"clock-skew", Params{"offset": "0s"}, false},                // no offset is no fault
		{"clock-skew", Params{"offset": "48h"}, false},               // beyond what the API accepts
		{"clock-skew", Params{"offset": "later"}, false},             // not a duration
		{"redis-split-brain", Params{"with": "api-1"}, true},         // one node, as a scalar
		{"redis-split-brain", Params{"with": "[api-1 api-2]"}, true}, // a YAML list, as scenarios hold it
		{"redis-split-brain", Params{"with": "api-1,api-3"}, true},   // or with commas
		{"redis-split-brain", nil, true},                             // no API node: the primary alone
		{"redis-split-brain", Params{"with": "[redis-2]"}, false},    // API nodes only: the Redis side is the fault's to pick
		{"redis-split-brain", Params{"mode": "kill"}, false},         // unknown parameter
		{"cache-invalidation-loss", nil, true},                       // no parameter: every invalidation is lost
		{"cache-invalidation-loss", Params{"percent": "50"}, false},  // none taken
		{"postgres-failover", nil, true},                             // no parameter: kill the primary, promote the standby
		{"postgres-failover", Params{"mode": "stop"}, false},         // none taken: it always kills
		{"postgres-link", Params{"loss": "100"}, true},               // a cut link (on postgres-2: the replication stream)
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			_, err := New(tt.fault, tt.params)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}
