package load

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// VersionRead is one GET of a resource as the client saw it: the version its strong ETag named and when
// the logical read (its retries included) began and ended, in microseconds on the run's clock (since
// LedgerSnapshot.Start). The stale-read check (results/check_stale_reads.go) compares it with the writes
// acknowledged before it began.
type VersionRead struct {
	Version int64 `json:"v"`
	Client  int   `json:"client"`
	StartUs int64 `json:"start_us"`
	EndUs   int64 `json:"end_us"`
}

// VersionWrite is one PATCH of a resource answered 200: the version its ETag named (the one the write
// made) and when the client had the answer, in microseconds on the run's clock.
type VersionWrite struct {
	Version int64 `json:"v"`
	Client  int   `json:"client"`
	AckUs   int64 `json:"ack_us"`
}

// sinceStart is now on the run's clock, in microseconds.
func (x *Exec) sinceStart() int64 { return time.Since(x.e.start).Microseconds() }

// clientID is the request's client (-1 without clients).
func (x *Exec) clientID() int {
	if x.client == nil {
		return -1
	}
	return x.client.ID
}

// readResource GETs a resource and records what it saw when the answer is a 200 with a strong numeric
// ETag (the reference API's versions; another service's opaque tags are not versions and are not kept).
func (x *Exec) readResource(ctx context.Context, id, path string) (*Response, error) {
	start := x.sinceStart()
	resp, err := x.Do(ctx, Request{Method: http.MethodGet, Path: path})
	if err == nil && resp.Status == http.StatusOK {
		if v, ok := etagVersion(resp.Header.Get("ETag")); ok {
			x.Ledger().recordRead(id, VersionRead{Version: v, Client: x.clientID(), StartUs: start, EndUs: x.sinceStart()})
		}
	}
	return resp, err
}

// recordWrite keeps an acknowledged PATCH's version, answered just now.
func (x *Exec) recordWrite(id string, resp *Response) {
	if v, ok := etagVersion(resp.Header.Get("ETag")); ok {
		x.Ledger().recordWrite(id, VersionWrite{Version: v, Client: x.clientID(), AckUs: x.sinceStart()})
	}
}

// etagVersion reads a strong ETag "N" as the version N.
func etagVersion(tag string) (int64, bool) {
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	return v, err == nil
}

// recordRead and recordWrite add to id's entry (made if new). Both lists grow with the run: a few
// dozen bytes per resource op, kept in memory like the resources themselves.
func (l *Ledger) recordRead(id string, r VersionRead) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.resource(id)
	e.Reads = append(e.Reads, r)
}

func (l *Ledger) recordWrite(id string, w VersionWrite) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.resource(id)
	e.Writes = append(e.Writes, w)
}

// resource is id's entry, made if new; l.mu is held.
func (l *Ledger) resource(id string) *ResourceEntry {
	r := l.resources[id]
	if r == nil {
		r = &ResourceEntry{ID: id}
		l.resources[id] = r
	}
	return r
}

// sortVersions puts reads in start order and writes in ack order (ties by client, then version), so that a
// snapshot and a merge of segments list the same entries in the same order.
func sortVersions(r *ResourceEntry) {
	slices.SortFunc(r.Reads, func(a, b VersionRead) int {
		return cmp.Or(cmp.Compare(a.StartUs, b.StartUs), cmp.Compare(a.Client, b.Client), cmp.Compare(a.EndUs, b.EndUs), cmp.Compare(a.Version, b.Version))
	})
	slices.SortFunc(r.Writes, func(a, b VersionWrite) int {
		return cmp.Or(cmp.Compare(a.AckUs, b.AckUs), cmp.Compare(a.Client, b.Client), cmp.Compare(a.Version, b.Version))
	})
}
