package load

import (
	"context"
	"strconv"
)

func init() { RegisterOp(ResourceRead{}) }

// ResourceRead is GET /v1/resources/{id} of a random resource (of Config.Resources, as resource.update
// picks them): a read whose version the ledger keeps for the stale-read check. With a cache in front of
// the store it is the read the cache serves.
type ResourceRead struct{}

var _ Op = ResourceRead{}

func (ResourceRead) Name() string       { return "resource.read" }
func (ResourceRead) NeedsSession() bool { return true }
func (ResourceRead) Do(ctx context.Context, x *Exec) Outcome {
	id := "res-" + strconv.Itoa(x.Rand().IntN(x.Resources()))
	resp, err := x.readResource(ctx, id, "/v1/resources/"+id)
	return OutcomeOf(x, resp, err, id)
}
