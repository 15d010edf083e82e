package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// --- tickets ------------------------------------------------------------------------------------------

// ticket is what the desk stores and lists. RequestToken is the X-Request-Token it was filed with, so that
// a checker reading the listing can count the tickets of each token.
type ticket struct {
	ID           string `json:"id"`
	Subject      string `json:"subject"`
	Priority     int    `json:"priority"`
	RequestToken string `json:"request_token"`
	Account      string `json:"account"`
	ServedBy     string `json:"served_by"`
	CreatedAt    string `json:"created_at"`
}

// fileTicket stores a ticket, its place in the account's index and, when KEYS[1] is not empty, the request
// token's first answer, in one step: a replay (or a racing duplicate) finds the answer and stores nothing.
//
//	KEYS: dedupe key (or ""), sequence key, index key, ticket key
//	ARGV: fingerprint, ticket id, ticket JSON, dedupe TTL in seconds
//	returns {1, JSON} when filed, {0, fingerprint "\n" first JSON} when the token was seen.
var fileTicket = redis.NewScript(`
if KEYS[1] ~= "" then
  local prev = redis.call("GET", KEYS[1])
  if prev then return {0, prev} end
end
local n = redis.call("INCR", KEYS[2])
redis.call("SET", KEYS[4], ARGV[3])
redis.call("ZADD", KEYS[3], n, ARGV[2])
if KEYS[1] ~= "" then
  redis.call("SET", KEYS[1], ARGV[1] .. "\n" .. ARGV[3], "EX", ARGV[4])
end
return {1, ARGV[3]}
`)

func (d *desk) createTicket(w http.ResponseWriter, r *http.Request, s session) {
	token := r.Header.Get("X-Request-Token")
	if token == "" || len(token) > 200 {
		problem(w, http.StatusBadRequest, "request-token-required", "X-Request-Token (1-200 bytes) is required")
		return
	}
	var in struct {
		Subject  string `json:"subject"`
		Priority int    `json:"priority"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Subject == "" || in.Priority < 1 || in.Priority > 5 {
		problem(w, http.StatusUnprocessableEntity, "bad-ticket", "subject is required and priority is 1 to 5")
		return
	}
	fp := digest(in.Subject, strconv.Itoa(in.Priority))
	memoKey := s.accountID + ":" + token

	if d.cfg.mode == Flawed {
		// The flaw: the token is looked up in this node's memory only. Another node never saw it, and a
		// second request between this look-up and the remembering below is not stopped either.
		d.mu.Lock()
		prev, ok := d.seen[memoKey]
		d.mu.Unlock()
		if ok {
			d.replay(w, fp, prev.fingerprint, prev.body)
			return
		}
	}

	time.Sleep(d.cfg.triage) // route the ticket to a queue: the downstream call a real desk makes
	t := ticket{ID: "T-" + randomHex(8), Subject: in.Subject, Priority: in.Priority, RequestToken: token,
		Account: s.login, ServedBy: d.cfg.node, CreatedAt: time.Now().UTC().Format(time.RFC3339Nano)}
	body, _ := json.Marshal(t)
	dedupe := ""
	if d.cfg.mode == Correct {
		dedupe = keyDedupe + memoKey
	}
	res, err := fileTicket.Run(r.Context(), d.rdb,
		[]string{dedupe, keySeq + s.accountID, keyIndex + s.accountID, keyTicket + t.ID},
		fp, t.ID, body, int(d.cfg.dedupeTTL.Seconds())).Slice()
	if err != nil {
		storeDown(w, err)
		return
	}
	if filed, _ := res[0].(int64); filed == 0 {
		prev, _ := res[1].(string)
		pfp, pbody, _ := strings.Cut(prev, "\n")
		d.replay(w, fp, pfp, []byte(pbody))
		return
	}
	if d.cfg.mode == Flawed {
		d.mu.Lock()
		d.seen[memoKey] = memo{fingerprint: fp, body: body}
		d.mu.Unlock()
	}
	raw(w, http.StatusCreated, body)
}

// replay answers a request token seen before: the first answer again, or 422 when the token now comes with
// another ticket.
func (d *desk) replay(w http.ResponseWriter, fp, prevFP string, body []byte) {
	if fp != prevFP {
		problem(w, http.StatusUnprocessableEntity, "request-token-reused",
			"this X-Request-Token was used for another ticket")
		return
	}
	w.Header().Set("X-Request-Replayed", "true")
	raw(w, http.StatusCreated, body)
}

// listTickets pages through the account's tickets in filing order. The cursor is opaque to clients (the
// number of the last ticket of the previous page); next_cursor is null on the last page.
func (d *desk) listTickets(w http.ResponseWriter, r *http.Request, s session) {
	q := r.URL.Query()
	limit := defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			problem(w, http.StatusBadRequest, "bad-limit", "limit is 1 to 100")
			return
		}
		limit = n
	}
	after := int64(0)
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 36, 64)
		if err != nil || n < 0 {
			problem(w, http.StatusBadRequest, "bad-cursor", "cursor is not one this service gave")
			return
		}
		after = n
	}
	zs, err := d.rdb.ZRangeByScoreWithScores(r.Context(), keyIndex+s.accountID, &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(after, 10), Max: "+inf", Count: int64(limit) + 1}).Result()
	if err != nil {
		storeDown(w, err)
		return
	}
	var next any // null on the last page
	if len(zs) > limit {
		zs = zs[:limit]
		next = strconv.FormatInt(int64(zs[limit-1].Score), 36)
	}
	tickets := make([]json.RawMessage, 0, len(zs))
	if len(zs) > 0 {
		keys := make([]string, len(zs))
		for i, z := range zs {
			keys[i] = keyTicket + z.Member.(string)
		}
		vals, err := d.rdb.MGet(r.Context(), keys...).Result()
		if err != nil {
			storeDown(w, err)
			return
		}
		for _, v := range vals {
			if s, ok := v.(string); ok {
				tickets = append(tickets, json.RawMessage(s))
			}
		}
	}
	reply(w, http.StatusOK, map[string]any{"tickets": tickets, "next_cursor": next})
}
