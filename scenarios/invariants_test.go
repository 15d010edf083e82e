package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The pieces of a declared scenario with invariants, after head (which ends on line 7).
const (
	// setOp (lines 8-13): an op that adds its idempotency key to the set items.
	setOp = "ops:\n  a.b:\n    idempotency: {header: X-Key}\n    steps:\n      - request: {method: POST, path: /t}\n    record: {set: items}\n"
	// counterOp (6 lines, under ops): an op that increments the counter c named by its first step's capture.
	counterOp = "  c.d:\n    steps:\n      - request: {method: GET, path: /c}\n        capture: {n: {json: $.name}}\n      - request: {method: PUT, path: \"/c/{{n}}\"}\n    record: {counter: c, key: \"{{n}}\"}\n"
	// setInv (4 lines): the invariant that reads items.
	setInv = "  - set: items\n    read:\n      request: {method: GET, path: /t, headers: {T: \"{{token}}\"}}\n      elements: \"$.items[*].key\"\n"
	// counterInv (4 lines): the invariant that reads c.
	counterInv = "  - counter: c\n    read:\n      request: {method: GET, path: \"/c/{{counter.key}}\"}\n      value: $.n\n"
)

// withRecord is setOp with another record (line 13).
func withRecord(record string) string {
	return "ops:\n  a.b:\n    idempotency: {header: X-Key}\n    steps:\n      - request: {method: POST, path: /t}\n    record: " + record + "\n"
}

type errorCase struct {
	name string
	yaml string
	want []string // each must appear in the error text
}

func invariantErrorCases() []errorCase {
	ops := head + setOp + counterOp // lines 8-19; invariants: is line 20, the first invariant starts on 21
	return []errorCase{
		// A record names a set and a counter: an op adds to one invariant.
		{"record with set and counter", head + withRecord("{set: items, counter: c, key: x}") + "invariants:\n" + setInv,
			[]string{"bad.yaml:13:13:", "ops.a.b.record:", "not both"}},
		// A record that names neither.
		{"record with neither", head + withRecord("{by: 2}") + "invariants:\n" + setInv,
			[]string{"bad.yaml:13:13:", "ops.a.b.record:", "give set: NAME"}},
		// A set's element is the op's idempotency key: an op without idempotency has none.
		{"set without idempotency", head + "ops:\n  a.b:\n    steps:\n      - request: {method: POST, path: /t}\n    record: {set: items}\n" + "invariants:\n" + setInv,
			[]string{"bad.yaml:12:19:", "ops.a.b.record.set:", "declare idempotency"}},
		// A counter needs its key.
		{"counter without key", head + "ops:\n  c.d:\n    steps:\n      - request: {method: PUT, path: /c}\n    record: {counter: c}\ninvariants:\n" + counterInv,
			[]string{"bad.yaml:12:13:", "ops.c.d.record.key:", "is required"}},
		// The key is rendered from what the steps before the last captured: the last's capture is not one.
		{"key reads the last step's capture", head + "ops:\n  c.d:\n    steps:\n      - request: {method: GET, path: /c}\n      - request: {method: PUT, path: /c}\n        capture: {m: {json: $.name}}\n    record: {counter: c, key: \"{{m}}\"}\ninvariants:\n" + counterInv,
			[]string{"bad.yaml:14:32:", "ops.c.d.record.key:", "m: unknown variable", "steps before the last"}},
		// by is a positive increment.
		{"by below 1", head + "ops:\n  c.d:\n    steps:\n      - request: {method: GET, path: /c}\n        capture: {n: {json: $.name}}\n      - request: {method: PUT, path: /c}\n    record: {counter: c, key: \"{{n}}\", by: 0}\ninvariants:\n" + counterInv,
			[]string{"bad.yaml:14:44:", "ops.c.d.record.by:", "0: want a positive integer"}},
		// An invariant of a set no op records into would check nothing.
		{"invariant of an unrecorded set", ops + "invariants:\n" + setInv + counterInv + "  - set: other\n    read: {request: {method: GET, path: /o}, elements: $.x}\n",
			[]string{"bad.yaml:29:10:", "invariants[2].set:", `"other": no op records into it`}},
		// A record no invariant reads would be checked by nothing.
		{"record read by no invariant", ops + "invariants:\n" + setInv,
			[]string{"bad.yaml:19:23:", "ops.c.d.record.counter:", `counter "c" is read by no invariant`}},
		// Two invariants of one name.
		{"duplicate invariant names", ops + "invariants:\n" + "  - name: same\n    " + setInv[4:] + "  - name: same\n    " + counterInv[4:],
			[]string{"bad.yaml:26:", "invariants[1].name:", `"same" names an earlier invariant too`}},
		// per is client or run.
		{"per bogus", ops + "invariants:\n  - per: bogus\n    " + setInv[4:] + counterInv,
			[]string{"bad.yaml:21:", "invariants[0].per:", `"bogus": want client`}},
		// A counter is read once per key (invariants reads it as the first client): per: client would be ignored.
		{"per client on a counter", ops + "invariants:\n" + setInv + counterInv[:15] + "    per: client\n" + counterInv[15:],
			[]string{"bad.yaml:26:10:", "invariants[1].per:", "client is a set's"}},
		// start is a counter's.
		{"start on a set", ops + "invariants:\n  - start: 5\n    " + setInv[4:] + counterInv,
			[]string{"bad.yaml:21:", "invariants[0].start:", "is a counter's value"}},
		// read is required. (The line only: for a mapping the positioner gives the column of its first key's
		// colon, 8 here, as it does for every error on a whole mapping.)
		{"read missing", ops + "invariants:\n  - set: items\n" + counterInv,
			[]string{"bad.yaml:21:", "invariants[0]:", "read: {request: ..., elements:"}},
		// A set's read says where its elements are.
		{"elements missing", ops + "invariants:\n  - set: items\n    read: {request: {method: GET, path: /t}}\n" + counterInv,
			[]string{"bad.yaml:22:11:", "invariants[0].read:", "elements is required"}},
		// value is a counter's.
		{"value on a set", ops + "invariants:\n" + setInv + "      value: $.n\n" + counterInv,
			[]string{"bad.yaml:25:14:", "invariants[0].read.value:", "is a counter's"}},
		// next says where the cursor goes: a query parameter or a link.
		{"next without query or link", ops + "invariants:\n" + setInv + "      next: {json: $.next}\n" + counterInv,
			[]string{"bad.yaml:25:13:", "invariants[0].read.next:", "give query: NAME"}},
		// Not both.
		{"next with query and link", ops + "invariants:\n" + setInv + "      next: {json: $.next, query: c, link: true}\n" + counterInv,
			[]string{"bad.yaml:25:13:", "invariants[0].read.next:", "not both"}},
		// A counter is one value: no pages.
		{"next on a counter", ops + "invariants:\n" + setInv + counterInv + "      next: {json: $.next, query: c}\n",
			[]string{"bad.yaml:29:13:", "invariants[1].read.next:", "nothing to page through"}},
		// session.login names setup steps.
		{"session.login names a missing step", head + "  session: {token: token, unknown: [401], login: [signin]}\n" + setOp + "invariants:\n" + setInv,
			[]string{"bad.yaml:8:51:", "client.session.login[0]:", `"signin" is not the name of a client.setup step`}},
	}
}

func TestInvariantErrors(t *testing.T) {
	for _, c := range invariantErrorCases() {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(c.yaml))
			require.Error(t, err)
			for _, w := range c.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestInvariantsAllowed: idempotency: {} sends the key in the body only, and the op still records into a
// set; the invariants compile with their defaults (a set read per client, named after what it reads).
func TestInvariantsAllowed(t *testing.T) {
	y := head + `  session: {token: token, unknown: [401]}
ops:
  a.b:
    idempotency: {}
    steps:
      - request: {method: POST, path: /t, json: {key: "{{idempotency.key}}"}}
    record: {set: items}
` + counterOp + "invariants:\n" + setInv + "      next: {json: $.next, link: true}\n" + "  - counter: c\n    start: 7\n    per: run\n    read:\n      request: {method: GET, path: \"/c/{{counter.key}}\"}\n      value: $.n\n"
	p, err := Parse("ok.yaml", []byte(y))
	require.NoError(t, err)
	require.Len(t, p.Ops, 2)
	a := p.Ops[0]
	require.True(t, a.Idempotent)
	require.Empty(t, a.IdempotencyHeader)
	require.Equal(t, "items", a.Record.Set)
	require.Equal(t, "c", p.Ops[1].Record.Counter)
	require.EqualValues(t, 1, p.Ops[1].Record.By)
	require.Equal(t, []int{0}, p.Client.Session.Login, "the step that captures the token")
	require.Len(t, p.Invariants, 2)
	set, counter := p.Invariants[0], p.Invariants[1]
	require.Equal(t, "items", set.Name)
	require.True(t, set.PerClient)
	require.True(t, set.Next.Link)
	require.Equal(t, "c", counter.Name)
	require.False(t, counter.PerClient)
	require.EqualValues(t, 7, counter.Start)
}
