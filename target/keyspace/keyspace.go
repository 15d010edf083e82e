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
	Order          = "v1:order:"               // + order id -> JSON order
	UserOrders     = "v1:orders:user:"         // + user id -> list of order ids
	OrderByRequest = "v1:order-index:request:" // + request_id -> list of order ids
	OrderByKey     = "v1:order-index:key:"     // + idempotency key -> list of order ids
	Idempotency    = "v1:idem:"                // + user id + ":" + key -> hash
	Resource       = "v1:resource:"            // + id -> hash {value, version}
	// ResourceCache is a resource's cached copy with STORE=postgres and CACHE_TTL ("version:value").
	ResourceCache = arch.ResourceCacheKey
)
