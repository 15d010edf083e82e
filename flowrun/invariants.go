package flowrun

import (
	"context"
	"fmt"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/chaosbench/chaosbench/flow"
	"github.com/chaosbench/chaosbench/scenarios"
)

// invariants sends each invariant's read once, as the client, so that a person sees before a long run
// whether the read works: a set's first page (how many elements, and the cursor or link to the next), each
// counter the ops incremented here (its value). keys are the counter keys the ops rendered, by counter.
func (c *client) invariants(ctx context.Context, plan scenarios.Plan, keys map[string][]string, rep *Report) error {
	for _, in := range plan.Invariants {
		name := "invariant/" + in.Name
		if in.Set != "" {
			q := c.do(ctx, name, in.Read, "", "")
			if q.Status != 0 && q.Error == "" {
				c.readSet(in, q.body, &q)
			}
			q.body = nil
			rep.Requests = append(rep.Requests, q)
		}
		if in.Counter != "" {
			if len(keys[in.Counter]) == 0 {
				rep.NotRun = append(rep.NotRun, fmt.Sprintf("%s: no op incremented a counter %s here, so there is no key to read", name, in.Counter))
			}
			for _, k := range keys[in.Counter] {
				c.vars[flow.VarKey] = flow.String(k)
				q := c.do(ctx, name, in.Read, "", "")
				delete(c.vars, flow.VarKey)
				if q.Status != 0 && q.Error == "" {
					readCounter(in, q.body, &q)
				}
				q.body = nil
				rep.Requests = append(rep.Requests, q)
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// readSet shows what a set's first page holds: its elements' count, and what comes next.
func (c *client) readSet(in flow.Invariant, body []byte, q *Request) {
	res, ok := in.Elements.Get(body)
	if !ok || !res.IsArray() {
		q.Captures = append(q.Captures, Capture{Name: "elements", Failed: true, Source: "json " + in.Elements.String() + " (an array)", Excerpt: flow.Excerpt(body)})
		return
	}
	n := len(res.Array())
	v := strconv.Itoa(n) + " on this page"
	if n > 0 {
		v += ", the first " + res.Array()[0].String()
	}
	q.Captures = append(q.Captures, Capture{Name: "elements", Value: v})
	if in.Next != nil {
		nx, ok := in.Next.Path.Get(body)
		if ok && nx.Type != gjson.Null && nx.String() != "" {
			q.Captures = append(q.Captures, Capture{Name: "next", Value: nx.String()})
		} else {
			q.Captures = append(q.Captures, Capture{Name: "next", Value: "(none: the last page)"})
		}
	}
}

// readCounter shows a counter's value.
func readCounter(in flow.Invariant, body []byte, q *Request) {
	v, ok := in.Value.Get(body)
	if !ok || v.Type != gjson.Number || v.Num != float64(v.Int()) {
		q.Captures = append(q.Captures, Capture{Name: "value", Failed: true, Source: "json " + in.Value.String() + " (an integer)", Excerpt: flow.Excerpt(body)})
		return
	}
	q.Captures = append(q.Captures, Capture{Name: "value", Value: strconv.FormatInt(v.Int(), 10)})
}
