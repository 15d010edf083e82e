package target

import (
	"context"
	"github.com/chaosbench/chaosbench/target/keyspace"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

var resourceIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

type resourceRequest struct {
	Value *int64 `json:"value"`
}

// etag is strong: it names one exact version of the resource.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// parseIfMatch accepts one strong entity tag (or *). Weak tags never match
// under strong comparison (RFC 9110 13.1.1).
func parseIfMatch(h string) (version int64, any bool, ok bool) {
	h = strings.TrimSpace(h)
	if h == "*" {
		return 0, true, true
	}
	if len(h) < 3 || h[0] != '"' || h[len(h)-1] != '"' {
		return 0, false, false
	}
	v, err := strconv.ParseInt(h[1:len(h)-1], 10, 64)
	return v, false, err == nil
}

// getResource: GET /v1/resources/{id}. A resource never written reads as
// value 0, version 0, so that load can use any id without a setup step.
func (s *Server) getResource(w http.ResponseWriter, r *http.Request, _ session) {
	id := r.PathValue("id")
	if !resourceIDRE.MatchString(id) {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "resource id must be 1-64 characters of letters, digits, _ and -")
		return
	}
	if s.pg != nil { // STORE=postgres (pgorders.go)
		s.getResourcePG(w, r, id)
		return
	}
	var vals []any
	err := s.st.do(r.Context(), "resource.get", func(ctx context.Context) (err error) {
		vals, err = s.st.rdb.HMGet(ctx, keyspace.Resource+id, "value", "version").Result()
		return err
	})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	value, version := hashInt(vals[0]), hashInt(vals[1])
	w.Header().Set("ETag", etag(version))
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "value": value})
}

func hashInt(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// casScript sets the value only if the version still matches (If-Match),
// atomically. Returns {new version} or {-1, current version}.
var casScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if ARGV[2] ~= '*' and cur ~= tonumber(ARGV[2]) then return {-1, cur} end
if ARGV[2] == '*' and cur == 0 then return {-1, cur} end
redis.call('HSET', KEYS[1], 'value', ARGV[1])
return {redis.call('HINCRBY', KEYS[1], 'version', 1)}`)

// lwwScript is last-write-wins: it ignores what the writer had read.
var lwwScript = redis.NewScript(`
redis.call('HSET', KEYS[1], 'value', ARGV[1])
return {redis.call('HINCRBY', KEYS[1], 'version', 1)}`)

// patchResource: PATCH /v1/resources/{id}.
func (s *Server) patchResource(w http.ResponseWriter, r *http.Request, _ session) {
	id := r.PathValue("id")
	if !resourceIDRE.MatchString(id) {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "resource id must be 1-64 characters of letters, digits, _ and -")
		return
	}
	cond := "*"
	if s.cfg.Concurrency == ConcurrencyETag {
		h := r.Header.Get("If-Match")
		if h == "" {
			writeError(w, http.StatusPreconditionRequired, CodePreconditionRequired, "If-Match with the resource's ETag is required")
			return
		}
		v, anyTag, ok := parseIfMatch(h)
		if !ok {
			writeError(w, http.StatusPreconditionFailed, CodePreconditionFailed, "If-Match does not name a current strong ETag")
			return
		}
		if !anyTag {
			cond = strconv.FormatInt(v, 10)
		}
	}
	var in resourceRequest
	if !decodeJSON(w, r, s.cfg.MaxBodyBytes, &in) {
		return
	}
	if in.Value == nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "value is required")
		return
	}
	if s.pg != nil { // STORE=postgres (pgorders.go)
		s.patchResourcePG(w, r, id, *in.Value, cond, s.cfg.Concurrency != ConcurrencyETag)
		return
	}
	var res []any
	err := s.st.do(r.Context(), "resource.update", func(ctx context.Context) error {
		var v any
		var err error
		if s.cfg.Concurrency == ConcurrencyETag {
			v, err = casScript.Run(ctx, s.st.rdb, []string{keyspace.Resource + id}, *in.Value, cond).Result()
		} else {
			v, err = lwwScript.Run(ctx, s.st.rdb, []string{keyspace.Resource + id}, *in.Value).Result()
		}
		res, _ = v.([]any)
		return err
	})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if n, _ := res[0].(int64); n < 0 {
		w.Header().Set("ETag", etag(res[1].(int64)))
		writeError(w, http.StatusPreconditionFailed, CodePreconditionFailed, "the resource changed since it was read")
		return
	}
	w.Header().Set("ETag", etag(res[0].(int64)))
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "value": *in.Value})
}
