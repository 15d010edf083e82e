package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

func init() { RegisterOp(ResourceUpdate{}) }

// ResourceUpdate increments a resource: GET it, then PATCH value+1 with
// If-Match; on 412 it re-reads and tries again (up to MaxConflicts). An
// increment is what lets the checker compare acknowledged updates with the
// final value.
type ResourceUpdate struct {
	// MaxConflicts bounds re-read cycles on 412 (default 5).
	MaxConflicts int
}

var _ Op = ResourceUpdate{}

func (ResourceUpdate) Name() string       { return "resource.update" }
func (ResourceUpdate) NeedsSession() bool { return true }
func (op ResourceUpdate) Do(ctx context.Context, x *Exec) Outcome {
	maxConflicts := op.MaxConflicts
	if maxConflicts <= 0 {
		maxConflicts = 5
	}
	id := "res-" + strconv.Itoa(x.Rand().IntN(x.Resources()))
	path := "/v1/resources/" + id
	uncertain, conflicts := 0, 0
	for {
		resp, err := x.readResource(ctx, id, path)
		if err != nil || resp.Status != http.StatusOK {
			x.Ledger().RecordResourceUpdate(id, false, uncertain, conflicts)
			return OutcomeOf(x, resp, err, id)
		}
		var cur struct {
			Value int64 `json:"value"`
		}
		if jerr := json.Unmarshal(resp.Body, &cur); jerr != nil {
			x.Ledger().RecordResourceUpdate(id, false, uncertain, conflicts)
			return Outcome{Status: resp.Status, Class: ClassSetup, Key: id, Err: fmt.Errorf("decode %s: %w", path, jerr)}
		}
		etag := resp.Header.Get("ETag")
		body := []byte(`{"value":` + strconv.FormatInt(cur.Value+1, 10) + `}`)
		resp, err = x.Do(ctx, Request{Method: http.MethodPatch, Path: path, Body: body, IfMatch: etag})
		uncertain += resp.Uncertain // resp is never nil from Do
		if err == nil && resp.Status == http.StatusPreconditionFailed && conflicts < maxConflicts {
			conflicts++
			continue
		}
		if err == nil && resp.Status == http.StatusPreconditionFailed {
			conflicts++
		}
		acked := err == nil && resp.Status == http.StatusOK
		if acked {
			x.recordWrite(id, resp)
		}
		x.Ledger().RecordResourceUpdate(id, acked, uncertain, conflicts)
		return OutcomeOf(x, resp, err, id)
	}
}
