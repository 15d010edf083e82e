package main

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// --- counters -----------------------------------------------------------------------------------------

var counterName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

type counter struct {
	Name     string `json:"name"`
	Count    int64  `json:"count"`
	Revision int64  `json:"revision"`
}

func etag(revision int64) string { return `"r` + strconv.FormatInt(revision, 10) + `"` }

// revisionOf reads an If-Match this service gave: `"r7"` is 7; anything else matches no revision.
func revisionOf(ifMatch string) (int64, bool) {
	v, ok := strings.CutPrefix(strings.TrimSpace(ifMatch), `"r`)
	if !ok {
		return 0, false
	}
	v, ok = strings.CutSuffix(v, `"`)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

func (d *desk) counterName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if !counterName.MatchString(name) {
		problem(w, http.StatusBadRequest, "bad-counter-name", "a counter name is 1-64 of A-Z a-z 0-9 . _ -")
		return "", false
	}
	return name, true
}

func (d *desk) getCounter(w http.ResponseWriter, r *http.Request, _ session) {
	name, ok := d.counterName(w, r)
	if !ok {
		return
	}
	vals, err := d.rdb.HMGet(r.Context(), keyCounter+name, "count", "revision").Result()
	if err != nil {
		storeDown(w, err)
		return
	}
	c := counter{Name: name}
	if v, ok := vals[0].(string); ok {
		c.Count, _ = strconv.ParseInt(v, 10, 64)
	}
	if v, ok := vals[1].(string); ok {
		c.Revision, _ = strconv.ParseInt(v, 10, 64)
	}
	w.Header().Set("ETag", etag(c.Revision))
	reply(w, http.StatusOK, c)
}

// setIfRevision is the compare-and-set of a counter: it writes only when the stored revision is the one the
// client read.
//
//	KEYS: counter key; ARGV: expected revision, new count
//	returns {1, new revision} when written, {0, current revision, current count} when stale.
var setIfRevision = redis.NewScript(`
local cur = redis.call("HMGET", KEYS[1], "count", "revision")
local rev = tonumber(cur[2] or "0")
if rev ~= tonumber(ARGV[1]) then return {0, rev, cur[1] or "0"} end
redis.call("HSET", KEYS[1], "count", ARGV[2], "revision", rev + 1)
return {1, rev + 1}
`)

func (d *desk) putCounter(w http.ResponseWriter, r *http.Request, _ session) {
	name, ok := d.counterName(w, r)
	if !ok {
		return
	}
	ifMatch := r.Header.Get("If-Match")
	if d.cfg.mode == Correct && ifMatch == "" {
		problem(w, http.StatusPreconditionRequired, "if-match-required",
			"PUT needs If-Match with the ETag of the counter as read")
		return
	}
	var in struct {
		Count *int64 `json:"count"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Count == nil {
		problem(w, http.StatusBadRequest, "bad-body", "count is required")
		return
	}
	key := keyCounter + name
	if d.cfg.mode == Flawed {
		// The flaw: If-Match is not read at all. Two clients that read the same count both write count+1,
		// and one increment is lost.
		pipe := d.rdb.TxPipeline()
		pipe.HSet(r.Context(), key, "count", *in.Count)
		rev := pipe.HIncrBy(r.Context(), key, "revision", 1)
		if _, err := pipe.Exec(r.Context()); err != nil {
			storeDown(w, err)
			return
		}
		w.Header().Set("ETag", etag(rev.Val()))
		reply(w, http.StatusOK, counter{Name: name, Count: *in.Count, Revision: rev.Val()})
		return
	}
	want, ok := revisionOf(ifMatch)
	if !ok {
		want = -1 // matches no revision: 412 below, with the current ETag
	}
	res, err := setIfRevision.Run(r.Context(), d.rdb, []string{key}, want, *in.Count).Slice()
	if err != nil {
		storeDown(w, err)
		return
	}
	rev, _ := res[1].(int64)
	w.Header().Set("ETag", etag(rev))
	if written, _ := res[0].(int64); written == 0 {
		problem(w, http.StatusPreconditionFailed, "stale-revision",
			"the counter changed since it was read (If-Match "+ifMatch+", now "+etag(rev)+"): read it again")
		return
	}
	reply(w, http.StatusOK, counter{Name: name, Count: *in.Count, Revision: rev})
}
