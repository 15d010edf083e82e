package target

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/chaosbench/chaosbench/target/pgtruth"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Orders and resources in PostgreSQL (STORE=postgres). Exactly-once does not rest on Redis here: the
// idempotency record (user, key) is inserted in the same transaction as the order, under a primary key.
// Two requests with one key at once: the second INSERT ... ON CONFLICT DO NOTHING waits for the first
// transaction, then inserts nothing, and the request answers the stored response. A commit whose answer
// was lost is found the same way by the client's retry. Redis only caches the stored answer, so that a
// replay usually costs no PostgreSQL round trip; a lost or stale cache entry costs only that trip.

// pgReplay is a stored answer for an idempotency key.
type pgReplay struct {
	fp     string
	status int
	body   []byte
}

// createOrderPG finishes POST /v1/orders once the request is validated: o is the order, stored its
// JSON, body the 201 answer.
func (s *Server) createOrderPG(w http.ResponseWriter, r *http.Request, sess session, in orderRequest, o order, stored, body []byte) {
	insertOrder := func(ctx context.Context, tx pgx.Tx) error {
		var key *string
		if o.IdempotencyKey != "" {
			key = &o.IdempotencyKey
		}
		_, err := tx.Exec(ctx, "INSERT INTO "+pgtruth.Orders+" (order_id, user_id, request_id, idempotency_key, body) "+
			"VALUES ($1, $2, $3, $4, $5)", o.OrderID, o.UserID, o.RequestID, key, string(stored))
		return err
	}
	if !s.cfg.Idempotency {
		err := s.pg.do(r.Context(), "order.create", func(ctx context.Context) error {
			return pgx.BeginFunc(ctx, s.pg.pool, func(tx pgx.Tx) error { return insertOrder(ctx, tx) })
		})
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		s.metrics.ordersCreated.Inc()
		writeRaw(w, http.StatusCreated, body)
		return
	}
	if o.IdempotencyKey == "" {
		writeError(w, http.StatusBadRequest, CodeIdempotencyMissing, "Idempotency-Key header is required")
		return
	}
	fp := fingerprint(r, in)
	cacheKey := s.st.keys.IdempotencyKey(sess.UserID, o.IdempotencyKey)
	if rep, ok := s.cachedReplay(r.Context(), cacheKey); ok {
		s.replayPG(w, rep, fp)
		return
	}
	var rep *pgReplay // set when the key was already used: the stored answer
	err := s.pg.do(r.Context(), "order.commit", func(ctx context.Context) error {
		rep = nil
		return pgx.BeginFunc(ctx, s.pg.pool, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, "INSERT INTO "+pgtruth.Idempotency+" (user_id, idem_key, fingerprint, order_id, status, body) "+
				"VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
				sess.UserID, o.IdempotencyKey, fp, o.OrderID, http.StatusCreated, string(body))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				return insertOrder(ctx, tx)
			}
			// The key's transaction committed before ours got the row: read its answer.
			var stored pgReplay
			var b string
			if err := tx.QueryRow(ctx, "SELECT fingerprint, status, body FROM "+pgtruth.Idempotency+
				" WHERE user_id = $1 AND idem_key = $2", sess.UserID, o.IdempotencyKey).Scan(&stored.fp, &stored.status, &b); err != nil {
				return err
			}
			stored.body = []byte(b)
			// The record may be committed on this server alone: a first attempt whose COMMIT waited for a
			// synchronous standby (postgres_standby: sync) and timed out is committed locally, visible
			// here, and not on the standby, so a failover would lose what this replay acknowledges (69
			// and 139 orders in two runs of the postgres-failover scenario). Rewriting the record makes
			// this transaction write WAL, so its COMMIT waits for the standby like any other: once it
			// returns, the standby has the WAL up to it, the first attempt's commit included. (Taking a
			// transaction id alone is not enough: PostgreSQL waits only for a transaction that wrote
			// WAL.) Without a synchronous standby it costs one row version and a local WAL flush, on
			// replays only.
			if _, err := tx.Exec(ctx, "UPDATE "+pgtruth.Idempotency+" SET status = status WHERE user_id = $1 AND idem_key = $2",
				sess.UserID, o.IdempotencyKey); err != nil {
				return err
			}
			rep = &stored
			return nil
		})
	})
	if err != nil {
		// The commit may or may not have happened: a retry with the key finds out which.
		s.storeError(w, r, err)
		return
	}
	if rep != nil {
		s.cacheReplay(r.Context(), cacheKey, *rep)
		s.replayPG(w, *rep, fp)
		return
	}
	s.cacheReplay(r.Context(), cacheKey, pgReplay{fp: fp, status: http.StatusCreated, body: body})
	s.metrics.ordersCreated.Inc()
	writeRaw(w, http.StatusCreated, body)
}

// replayPG answers a repeated key: the stored answer, or 422 when the payload differs.
func (s *Server) replayPG(w http.ResponseWriter, rep pgReplay, fp string) {
	if rep.fp != fp {
		s.metrics.idemConflicts.WithLabelValues("payload_mismatch").Inc()
		writeError(w, http.StatusUnprocessableEntity, CodeIdempotencyReused, "Idempotency-Key was used with another payload")
		return
	}
	s.metrics.replays.Inc()
	w.Header().Set("Idempotent-Replayed", "true")
	writeRaw(w, rep.status, rep.body)
}

// cachedReplay is the fast path: a stored answer cached in Redis (the hash the Redis store's records
// use, in state done). Any Redis failure is a miss: PostgreSQL decides.
func (s *Server) cachedReplay(ctx context.Context, key string) (pgReplay, bool) {
	var vals []any
	err := s.st.do(ctx, "idempotency.cache.get", func(ctx context.Context) (err error) {
		vals, err = s.st.rdb.HMGet(ctx, key, "state", "fp", "status", "body").Result()
		return err
	})
	if err != nil || len(vals) != 4 {
		return pgReplay{}, false
	}
	state, _ := vals[0].(string)
	fp, _ := vals[1].(string)
	statusText, _ := vals[2].(string)
	body, _ := vals[3].(string)
	status, _ := strconv.Atoi(statusText)
	if state != "done" || status == 0 {
		return pgReplay{}, false
	}
	return pgReplay{fp: fp, status: status, body: []byte(body)}, true
}

// cacheReplay caches a committed answer in Redis for IDEMPOTENCY_TTL, best effort: the record in
// PostgreSQL is the truth and never expires.
func (s *Server) cacheReplay(ctx context.Context, key string, rep pgReplay) {
	_ = s.st.do(ctx, "idempotency.cache.set", func(ctx context.Context) error {
		_, err := s.st.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, key, "state", "done", "fp", rep.fp, "status", rep.status, "body", string(rep.body))
			p.PExpire(ctx, key, s.cfg.IdempotencyTTL)
			return nil
		})
		return err
	})
}

// listOrdersPG: GET /v1/orders from PostgreSQL, oldest first, at most the newest 1000.
func (s *Server) listOrdersPG(w http.ResponseWriter, r *http.Request, sess session) {
	var out []json.RawMessage
	err := s.pg.do(r.Context(), "order.list", func(ctx context.Context) error {
		rows, err := s.pg.pool.Query(ctx, "SELECT body FROM (SELECT seq, body FROM "+pgtruth.Orders+
			" WHERE user_id = $1 ORDER BY seq DESC LIMIT 1000) newest ORDER BY seq", sess.UserID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (json.RawMessage, error) {
			var b string
			err := row.Scan(&b)
			return json.RawMessage(b), err
		})
		return err
	})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if out == nil {
		out = []json.RawMessage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": out})
}

// getResourcePG reads a resource; one never written is value 0, version 0.
func (s *Server) getResourcePG(w http.ResponseWriter, r *http.Request, id string) {
	var value, version int64
	if s.rc != nil { // CACHE_TTL: cache-aside (rcache.go)
		var hit bool
		if value, version, hit = s.rc.get(r.Context(), id); hit {
			w.Header().Set("ETag", etag(version))
			writeJSON(w, http.StatusOK, map[string]any{"id": id, "value": value})
			return
		}
	}
	err := s.pg.do(r.Context(), "resource.get", func(ctx context.Context) error {
		value, version = 0, 0
		err := s.pg.pool.QueryRow(ctx, "SELECT value, version FROM "+pgtruth.Resources+" WHERE id = $1", id).Scan(&value, &version)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if s.rc != nil {
		s.rc.fill(r.Context(), id, value, version)
	}
	w.Header().Set("ETag", etag(version))
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "value": value})
}

// patchResourcePG sets a resource's value with optimistic concurrency on its version column: cond is
// the If-Match version ("*": any existing version), lww ignores it (CONCURRENCY=none). Each statement is
// atomic on its own: the compare and the set are one UPDATE ... WHERE version = $n.
func (s *Server) patchResourcePG(w http.ResponseWriter, r *http.Request, id string, value int64, cond string, lww bool) {
	var version int64
	var ok bool
	err := s.pg.do(r.Context(), "resource.update", func(ctx context.Context) error {
		version, ok = 0, true
		var err error
		switch {
		case lww:
			err = s.pg.pool.QueryRow(ctx, "INSERT INTO "+pgtruth.Resources+" AS t (id, value, version) VALUES ($1, $2, 1) "+
				"ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, version = t.version + 1 RETURNING version", id, value).Scan(&version)
		case cond == "0": // a resource never written: the first write creates it
			err = s.pg.pool.QueryRow(ctx, "INSERT INTO "+pgtruth.Resources+" (id, value, version) VALUES ($1, $2, 1) "+
				"ON CONFLICT DO NOTHING RETURNING version", id, value).Scan(&version)
		case cond == "*":
			err = s.pg.pool.QueryRow(ctx, "UPDATE "+pgtruth.Resources+" SET value = $2, version = version + 1 "+
				"WHERE id = $1 RETURNING version", id, value).Scan(&version)
		default:
			want, perr := strconv.ParseInt(cond, 10, 64)
			if perr != nil {
				return perr // parseIfMatch made it: never
			}
			err = s.pg.pool.QueryRow(ctx, "UPDATE "+pgtruth.Resources+" SET value = $2, version = version + 1 "+
				"WHERE id = $1 AND version = $3 RETURNING version", id, value, want).Scan(&version)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// Stale (or * on nothing): answer the current version, 0 when the resource does not exist.
		ok = false
		err = s.pg.pool.QueryRow(ctx, "SELECT version FROM "+pgtruth.Resources+" WHERE id = $1", id).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(version))
	if !ok {
		writeError(w, http.StatusPreconditionFailed, CodePreconditionFailed, "the resource changed since it was read")
		return
	}
	if s.rc != nil { // committed: now drop the cached copy, once (rcache.go)
		s.rc.invalidate(r.Context(), id)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "value": value})
}
