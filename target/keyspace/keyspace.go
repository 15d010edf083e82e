// Package keyspace is the reference API's Redis key layout, and the reader
// of it that the checks take as ground truth (RedisTruth, a results.Truth).
// The API (package target) writes these keys; the checker reads them back,
// never the API's answers. Both sides import this one definition, so a
// renamed key changes both, and the reader does not pull the API's server
// code (metrics, JWT, bcrypt) into the CLI.
package keyspace

import "github.com/chaosbench/chaosbench/target/arch"

// Key prefixes, versioned so that a future schema can live beside this one.
// They are part of the contract: see docs/refapi.md.
const (
	User           = "v1:user:"                // + username -> JSON user
	Session        = "v1:session:"             // + sid -> hash
	Order          = "v1:order:"               // + {user id}:order id -> JSON order
	UserOrders     = "v1:orders:user:"         // + {user id} -> list of order ids
	OrderByRequest = "v1:order-index:request:" // + {user id}:request_id -> list of order ids
	OrderByKey     = "v1:order-index:key:"     // + {user id}:idempotency key -> list of order ids
	Idempotency    = "v1:idem:"                // + {user id}:key -> hash
	Resource       = "v1:resource:"            // + id -> hash {value, version}
	// ResourceCache is a resource's cached copy with STORE=postgres and CACHE_TTL ("version:value").
	ResourceCache = arch.ResourceCacheKey
)

// Layout is where an order's keys go. The keys an order touches are written by one Lua script (the
// idempotency record, the order, the user's list and both indexes): on a Redis Cluster every key of a
// script must hash to one slot, so there (Cluster) each carries its user's hash tag, {user id} (Redis
// hashes only what is between the first { and the next }): one user's orders, order list, indexes and
// idempotency records share a slot, and users spread over the cluster. User ids are UUIDs: no brace in
// them ends a tag early. On one Redis (the zero Layout) the keys stay as they always were: the order
// and the indexes without the user, which a reader looks up by id alone. Single-key values need no tag:
// a session and its data are one hash, and a user and a resource one key each.
type Layout struct {
	Cluster bool
}

// Tag is a user's hash tag.
func Tag(userID string) string { return "{" + userID + "}" }

// user is the user part of a key: the tag on a cluster, the bare id otherwise.
func (l Layout) user(userID string) string {
	if l.Cluster {
		return Tag(userID)
	}
	return userID
}

// scoped is id under the user's tag on a cluster, id alone otherwise.
func (l Layout) scoped(userID, id string) string {
	if l.Cluster {
		return Tag(userID) + ":" + id
	}
	return id
}

// IdempotencyKey is the idempotency record of key, for a user (always per user).
func (l Layout) IdempotencyKey(userID, key string) string {
	return Idempotency + l.user(userID) + ":" + key
}

// OrderKey is one order.
func (l Layout) OrderKey(userID, orderID string) string { return Order + l.scoped(userID, orderID) }

// UserOrdersKey is the list of a user's order ids.
func (l Layout) UserOrdersKey(userID string) string { return UserOrders + l.user(userID) }

// OrderByRequestKey indexes orders by the client's request id.
func (l Layout) OrderByRequestKey(userID, requestID string) string {
	return OrderByRequest + l.scoped(userID, requestID)
}

// OrderByKeyKey indexes orders by idempotency key.
func (l Layout) OrderByKeyKey(userID, key string) string { return OrderByKey + l.scoped(userID, key) }

// indexID is the request id or idempotency key of a cluster index key's suffix ({user id}:id), and
// whether the suffix has that shape.
func indexID(suffix string) (string, bool) {
	if len(suffix) < 2 || suffix[0] != '{' {
		return "", false
	}
	for i := 1; i < len(suffix)-1; i++ {
		if suffix[i] == '}' {
			if suffix[i+1] != ':' {
				return "", false
			}
			return suffix[i+2:], true
		}
	}
	return "", false
}
