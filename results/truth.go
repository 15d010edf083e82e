package results

import (
	"context"
	"errors"
)

// Truth is where the checks read what the service's storage really holds:
// never the API's answers to the client, which are what is being checked.
// Every method is a batch lookup (one round trip per batch of the ledger,
// not per entry) and answers in the order asked.
//
// The reference API's implementation reads its Redis keys
// (keyspace.RedisTruth in target/keyspace). A source that can answer only some questions (a
// service read through its own API, whose storage is unknown) returns
// ErrUnanswerable for the others: the checks that need them are then
// reported as not checked, never as zero.
type Truth interface {
	// OrdersByKey counts, for each idempotency key, the orders stored for it.
	OrdersByKey(ctx context.Context, keys []string) ([]int64, error)
	// OrdersByRequestID counts, for each request id, the orders stored for it.
	OrdersByRequestID(ctx context.Context, ids []string) ([]int64, error)
	// ResourceValues reads each resource's final value; a resource the store
	// does not hold is 0 (every architecture runs on a fresh stack, where
	// every resource starts at 0).
	ResourceValues(ctx context.Context, ids []string) ([]int64, error)
}

// ErrUnanswerable is what a Truth returns (wrapped or not) for a question
// it cannot answer.
var ErrUnanswerable = errors.New("the ground-truth source cannot answer this")

// Fact is a question a check asks of the Truth, beyond the ledger.
type Fact uint8

const (
	// StoredOrders: how many orders the store holds for each logical order
	// (by idempotency key and by request id, whichever shows more).
	StoredOrders Fact = 1 << iota
	// ResourceValues: each resource's final value.
	ResourceValues
	// StoredRequestIDs: the request id of every order the store holds, attempted or not (OrderLister).
	StoredRequestIDs
)

// FactRefuser is a Truth that knows up front which facts it cannot answer (a declared scenario without a
// set or a counter invariant): their checks are not checked even when the ledger holds no entry that
// would have asked.
type FactRefuser interface {
	Refuses(Fact) error
}

// OrderLister is a Truth that can also list every order it holds, by request id: what an "unexpected"
// write needs (stored, but no client ever attempted it). A Truth without it leaves those checks not
// checked.
type OrderLister interface {
	StoredRequestIDs(ctx context.Context) ([]string, error)
}

func (f Fact) String() string {
	switch f {
	case StoredOrders:
		return "stored orders"
	case ResourceValues:
		return "resource values"
	case StoredRequestIDs:
		return "stored request ids"
	}
	return "unknown fact"
}

// storedOrders asks t how many orders exist for each logical order: by
// idempotency key and by request id, the larger of the two (a server that
// ignored the key still indexed the request id, and the other way round).
// One index the source cannot read is fine; neither is ErrUnanswerable.
func storedOrders(ctx context.Context, t Truth, keys, ids []string) ([]int64, error) {
	byKey, kerr := t.OrdersByKey(ctx, keys)
	if kerr != nil && !errors.Is(kerr, ErrUnanswerable) {
		return nil, kerr
	}
	byReq, rerr := t.OrdersByRequestID(ctx, ids)
	if rerr != nil && !errors.Is(rerr, ErrUnanswerable) {
		return nil, rerr
	}
	switch {
	case kerr != nil && rerr != nil:
		return nil, errors.Join(kerr, rerr)
	case kerr != nil:
		return byReq, nil
	case rerr != nil:
		return byKey, nil
	}
	for i := range byKey {
		byKey[i] = max(byKey[i], byReq[i])
	}
	return byKey, nil
}
