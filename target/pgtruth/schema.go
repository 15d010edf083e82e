// Package pgtruth is the reference API's PostgreSQL schema (STORE=postgres: orders, the idempotency
// records, resources) and the reader of it that the checks take as ground truth (Truth, a results.Truth).
// The API (package target) writes these tables; the checker reads them back, never the API's answers. It is
// to PostgreSQL what target/keyspace is to Redis: one definition both sides import, so a renamed column
// changes both, and the reader does not pull the API's server code into the CLI.
package pgtruth

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Table names, part of the contract (docs/refapi.md).
const (
	Orders      = "refapi_orders"
	Idempotency = "refapi_idempotency"
	Resources   = "refapi_resources"
)

// Schema creates the tables if they do not exist. The idempotency record's primary key (user, key) is
// what makes a retried order exactly-once: the record and the order are inserted in one transaction, and
// a second insert of the same key waits for the first transaction and then finds the row (ON CONFLICT DO
// NOTHING), whatever the timing. seq orders a user's orders as they were committed.
const Schema = `
CREATE TABLE IF NOT EXISTS ` + Orders + ` (
  seq             bigserial PRIMARY KEY,
  order_id        text NOT NULL UNIQUE,
  user_id         text NOT NULL,
  request_id      text NOT NULL,
  idempotency_key text,
  body            text NOT NULL
);
CREATE INDEX IF NOT EXISTS ` + Orders + `_user ON ` + Orders + ` (user_id, seq);
CREATE INDEX IF NOT EXISTS ` + Orders + `_request ON ` + Orders + ` (request_id);
CREATE INDEX IF NOT EXISTS ` + Orders + `_key ON ` + Orders + ` (idempotency_key);
CREATE TABLE IF NOT EXISTS ` + Idempotency + ` (
  user_id     text NOT NULL,
  idem_key    text NOT NULL,
  fingerprint text NOT NULL,
  order_id    text NOT NULL,
  status      integer NOT NULL,
  body        text NOT NULL,
  PRIMARY KEY (user_id, idem_key)
);
CREATE TABLE IF NOT EXISTS ` + Resources + ` (
  id      text PRIMARY KEY,
  value   bigint NOT NULL,
  version bigint NOT NULL
);`

// schemaLock is the advisory lock key under which Schema runs: CREATE TABLE IF NOT EXISTS is not safe
// against itself (two nodes starting at once can both pass the check and one then fails on pg_type's
// unique index), so the nodes take turns.
const schemaLock = 0x63686173 // "chas"

// EnsureSchema creates the schema idempotently: every API node calls it before its first query, and the
// first one creates the tables.
func EnsureSchema(ctx context.Context, pool *pgxpool.Pool) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(schemaLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, Schema)
		return err
	})
	if err != nil {
		return fmt.Errorf("create the postgres schema: %w", err)
	}
	return nil
}
