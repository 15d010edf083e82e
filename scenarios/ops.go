package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/flow"
	"github.com/chaosbench/chaosbench/load"
)

// clientSpec is the client section: what each virtual client declares and does once before its ops.
type clientSpec struct {
	Vars    map[string]string `yaml:"vars"`
	Setup   []stepSpec        `yaml:"setup"`
	Session *sessionSpec      `yaml:"session"`
}

type sessionSpec struct {
	Token    string   `yaml:"token"`    // the variable that holds the session token
	Unknown  []int    `yaml:"unknown"`  // statuses that mean "this session is not known"
	Lifetime string   `yaml:"lifetime"` // how long a session is promised to last
	Login    []string `yaml:"login"`    // the setup steps that make a new session (default: the one capturing token)
}

// opSpec is one declared op under ops.
type opSpec struct {
	Idempotency *idempotencySpec `yaml:"idempotency"`
	RestartOn   []int            `yaml:"restart_on"`
	Record      *recordSpec      `yaml:"record"`
	Retry       *retrySpec       `yaml:"retry"` // overrides the scenario's retry for this op
	Steps       []stepSpec       `yaml:"steps"`
}

type idempotencySpec struct {
	Header string `yaml:"header"`
}

// recordSpec is what an op's outcome adds to the ledger: an element of a set, or an increment of a counter.
type recordSpec struct {
	Set     string `yaml:"set"`
	Counter string `yaml:"counter"`
	Key     string `yaml:"key"`
	By      *int64 `yaml:"by"`
}

// invariantSpec is one entry of invariants.
type invariantSpec struct {
	Name    string    `yaml:"name"`
	Set     string    `yaml:"set"`
	Counter string    `yaml:"counter"`
	Per     string    `yaml:"per"` // client or run
	Read    *readSpec `yaml:"read"`
	Start   *int64    `yaml:"start"`
}

type readSpec struct {
	Request  requestSpec      `yaml:"request"`
	Expect   *flow.ExpectSpec `yaml:"expect"`
	Elements string           `yaml:"elements"`
	Value    string           `yaml:"value"`
	Next     *nextSpec        `yaml:"next"`
}

type nextSpec struct {
	JSON  string `yaml:"json"`
	Query string `yaml:"query"`
	Link  bool   `yaml:"link"`
}

type stepSpec struct {
	Name    string                      `yaml:"name"`
	Request requestSpec                 `yaml:"request"`
	Expect  *flow.ExpectSpec            `yaml:"expect"`
	Capture map[string]flow.CaptureSpec `yaml:"capture"`
	Think   string                      `yaml:"think"`
}

type requestSpec struct {
	Method  string            `yaml:"method"`
	Path    string            `yaml:"path"`
	Query   map[string]string `yaml:"query"`
	Headers map[string]string `yaml:"headers"`
	JSON    any               `yaml:"json"`
	Form    any               `yaml:"form"`
	Body    *string           `yaml:"body"`
	Basic   *basicSpec        `yaml:"basic"`
}

type basicSpec struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// DeclaredWeight is a mix entry that names a declared op.
type DeclaredWeight struct {
	Op     string
	Weight int
}

// Declared reports whether the scenario declares its own requests (a client section or ops).
func (p Plan) Declared() bool { return p.Client != nil || len(p.Ops) > 0 }

// Built-in variables every template may read (flow's, named here for the validation below).
const (
	VarClientID       = flow.VarClientID
	VarRunID          = flow.VarRunID
	VarIdempotencyKey = flow.VarIdempotencyKey
)

var (
	opNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$`)
	methodRE = regexp.MustCompile(`^[A-Z]+$`)
)

// validateDeclared reads client and ops.
func validateDeclared(v *positioner, f file, p *Plan) {
	builtins := map[string]bool{VarClientID: true, VarRunID: true}
	defined := map[string]bool{VarClientID: true, VarRunID: true}
	if c := f.Client; c != nil {
		cp := &flow.Client{}
		for _, name := range sortedKeys(c.Vars) {
			field := `client.vars."` + name + `"`
			switch {
			case !varNameRE.MatchString(name):
				v.addq(field, "%q: want letters, digits, _ and - (starting with a letter or _)", name)
				continue
			case reservedVar(name):
				v.addq(field, "%q is a built-in (client.id, run.id, idempotency.key, seq, uuid, pick, add, sub, random.*)", name)
				continue
			}
			t := v.template(field, c.Vars[name])
			if t == nil {
				continue
			}
			v.checkVars(field, c.Vars[name], t.Vars(), builtins, "client variables may read only client.id and run.id")
			cp.Vars = append(cp.Vars, flow.Var{Name: name, Tmpl: t})
			defined[name] = true
		}
		for i, s := range c.Setup {
			field := fmt.Sprintf("client.setup[%d]", i)
			sp, caps := v.step(field, s, defined, "")
			cp.Setup = append(cp.Setup, sp)
			for _, n := range caps {
				defined[n] = true
			}
		}
		if s := c.Session; s != nil {
			sp := &flow.Session{Token: s.Token, Unknown: s.Unknown}
			switch {
			case s.Token == "":
				v.addq("client.session.token", "is required: the variable that holds the session token (e.g. a setup capture)")
			case !defined[s.Token] || builtins[s.Token]:
				v.addq("client.session.token", "%q is not a client variable nor a capture of client.setup", s.Token)
			}
			for i, st := range s.Unknown {
				if st < 100 || st > 599 {
					v.addq(fmt.Sprintf("client.session.unknown[%d]", i), "%d is not an HTTP status (100..599)", st)
				}
			}
			sp.Login = loginSteps(v, c, s)
			if s.Lifetime != "" {
				d, err := time.ParseDuration(s.Lifetime)
				if err != nil || d <= 0 {
					v.addq("client.session.lifetime", "%q: want a duration like 15m", s.Lifetime)
				}
				sp.Lifetime = d
			}
			cp.Session = sp
		}
		p.Client = cp
	}
	builtin := load.OpNames()
	for _, name := range sortedKeys(f.Ops) {
		o := f.Ops[name]
		field := `ops."` + name + `"`
		switch {
		case slices.Contains(builtin, name):
			v.addKey("ops", name, "%q is a built-in op (%s): give yours another name", name, strings.Join(builtin, ", "))
			continue
		case !opNameRE.MatchString(name):
			v.addKey("ops", name, "%q: want lowercase words joined by dots, e.g. ticket.create", name)
			continue
		}
		op := flow.Op{Name: name, RestartOn: o.RestartOn, Idempotent: o.Idempotency != nil}
		scope := maps(defined)
		if o.Idempotency != nil {
			// A key per logical op; the header is optional: a service may take the key in its body.
			op.IdempotencyHeader = o.Idempotency.Header
			if o.Idempotency.Header != "" && !headerRE.MatchString(o.Idempotency.Header) {
				v.addq(field+".idempotency.header", "%q: want a header name, e.g. Idempotency-Key", o.Idempotency.Header)
			}
			scope[VarIdempotencyKey] = true
		}
		for i, st := range o.RestartOn {
			if st < 100 || st > 599 {
				v.addq(fmt.Sprintf("%s.restart_on[%d]", field, i), "%d is not an HTTP status (100..599)", st)
			}
		}
		if len(o.Steps) == 0 {
			v.addKey("ops", name, "at least one step is required (steps: [...])")
		}
		var beforeLast map[string]bool // what a counter's key may read: the captures of every step but the last
		for i, s := range o.Steps {
			if i == len(o.Steps)-1 {
				beforeLast = maps(scope)
			}
			sp, caps := v.step(fmt.Sprintf("%s.steps[%d]", field, i), s, scope, op.IdempotencyHeader)
			op.Steps = append(op.Steps, sp)
			for _, n := range caps {
				scope[n] = true
			}
		}
		if o.Record != nil {
			op.Record = v.record(field+".record", *o.Record, op, beforeLast)
		}
		p.Ops = append(p.Ops, op)
	}
	validateInvariants(v, f, p, defined)
}

// loginSteps are the indexes of the setup steps that make a new session: those named by session.login,
// or the step that captures the token.
func loginSteps(v *positioner, c *clientSpec, s *sessionSpec) []int {
	index := map[string]int{}
	for i, st := range c.Setup {
		if st.Name != "" {
			index[st.Name] = i
		}
	}
	var out []int
	for i, name := range s.Login {
		j, ok := index[name]
		if !ok {
			v.addq(fmt.Sprintf("client.session.login[%d]", i), "%q is not the name of a client.setup step", name)
			continue
		}
		out = append(out, j)
	}
	if len(s.Login) > 0 {
		slices.Sort(out)
		return slices.Compact(out)
	}
	for i, st := range c.Setup {
		if _, ok := st.Capture[s.Token]; ok {
			return []int{i}
		}
	}
	return nil // a token from client.vars: nothing makes a new one
}

// record compiles an op's record; defined are what a counter's key may read.
func (v *positioner) record(field string, r recordSpec, op flow.Op, defined map[string]bool) *flow.Record {
	out := &flow.Record{Set: r.Set, Counter: r.Counter, By: 1}
	switch {
	case r.Set != "" && r.Counter != "":
		v.addq(field, "give set or counter, not both (an op adds to one invariant)")
		return nil
	case r.Set == "" && r.Counter == "":
		v.addq(field, "give set: NAME (the op's idempotency key joins that set) or counter: NAME with key: TEMPLATE")
		return nil
	case r.Set != "":
		if !op.Idempotent {
			v.addq(field+".set", "a set's element is the op's idempotency key: declare idempotency: {header: NAME} (or {} to send the key in the body as {{idempotency.key}})")
		}
		if r.Key != "" || r.By != nil {
			v.addq(field, "key and by are a counter's: a set's element is the op's idempotency key")
		}
		return out
	}
	if r.Key == "" {
		v.addq(field+".key", "is required: which counter the op increments (e.g. \"{{name}}\")")
		return nil
	}
	out.Key = v.template(field+".key", r.Key)
	if out.Key != nil {
		v.checkVars(field+".key", r.Key, out.Key.Vars(), defined,
			"a counter's key reads the client's variables and the captures of the steps before the last (the write)")
	}
	if r.By != nil {
		if *r.By < 1 {
			v.addq(field+".by", "%d: want a positive integer (default 1): the checks bound the final value by the increments", *r.By)
		}
		out.By = *r.By
	}
	return out
}

var invariantNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// validateInvariants reads invariants and checks them against the ops' records: every record is read by
// an invariant and every invariant has records, or the run would check nothing while looking as if it did.
func validateInvariants(v *positioner, f file, p *Plan, defined map[string]bool) {
	sets, counters := map[string]string{}, map[string]string{} // name -> the first op recording it
	for _, op := range p.Ops {
		if r := op.Record; r != nil {
			if r.Set != "" && sets[r.Set] == "" {
				sets[r.Set] = op.Name
			}
			if r.Counter != "" && counters[r.Counter] == "" {
				counters[r.Counter] = op.Name
			}
		}
	}
	names := map[string]bool{}
	read := map[string]bool{}
	for i, in := range f.Invariants {
		field := fmt.Sprintf("invariants[%d]", i)
		fi := flow.Invariant{Name: in.Name, Set: in.Set, Counter: in.Counter}
		var kind, target string
		switch {
		case in.Set != "" && in.Counter != "":
			v.addq(field, "give set or counter, not both")
			continue
		case in.Set != "":
			kind, target = "set", in.Set
			if sets[in.Set] == "" {
				v.addq(field+".set", "%q: no op records into it (record: {set: %s})", in.Set, in.Set)
			}
		case in.Counter != "":
			kind, target = "counter", in.Counter
			if counters[in.Counter] == "" {
				v.addq(field+".counter", "%q: no op records into it (record: {counter: %s, key: ...})", in.Counter, in.Counter)
			}
		default:
			v.addq(field, "give set: NAME or counter: NAME (what the ops record)")
			continue
		}
		if read[kind+" "+target] {
			v.addq(field+"."+kind, "%s %q is read by an earlier invariant", kind, target)
		}
		read[kind+" "+target] = true
		if fi.Name == "" {
			fi.Name = target
		}
		if !invariantNameRE.MatchString(fi.Name) {
			v.addq(field+".name", "%q: want lowercase letters, digits, _ and -", fi.Name)
		} else if names[fi.Name] {
			v.addq(field+".name", "%q names an earlier invariant too", fi.Name)
		}
		names[fi.Name] = true
		switch in.Per {
		case "":
			fi.PerClient = kind == "set" // a client's own items, by default; a counter is the service's
		case "client":
			fi.PerClient = true
			if kind == "counter" {
				v.addq(field+".per", "client is a set's: a counter is read once per key the ops recorded (as the first client), per: run")
			}
		case "run":
		default:
			v.addq(field+".per", "%q: want client (read once as every client) or run (once)", in.Per)
		}
		if in.Start != nil {
			if kind != "counter" {
				v.addq(field+".start", "is a counter's value before the run")
			}
			fi.Start = *in.Start
		}
		if in.Read == nil {
			v.addq(field, "read: {request: ..., %s} is required: how the service shows what it holds", map[string]string{"set": `elements: "$.items[*].id"`, "counter": `value: "$.count"`}[kind])
			p.Invariants = append(p.Invariants, fi)
			continue
		}
		r := in.Read
		scope := maps(defined)
		if kind == "counter" {
			scope[flow.VarKey] = true
		}
		fi.Read, _ = v.step(field+".read", stepSpec{Request: r.Request, Expect: r.Expect}, scope, "")
		path := func(sub, src, example string) flow.Path {
			if src == "" {
				v.addq(field+".read", "%s is required (a JSON path, e.g. %s)", sub, example)
				return flow.Path{}
			}
			pth, err := flow.CompilePath(src)
			if err != nil {
				v.flowError(field+".read."+sub, err)
			}
			return pth
		}
		switch kind {
		case "set":
			fi.Elements = path("elements", r.Elements, "$.items[*].request_token")
			if r.Value != "" {
				v.addq(field+".read.value", "is a counter's: a set reads elements")
			}
		case "counter":
			fi.Value = path("value", r.Value, "$.count")
			if r.Elements != "" {
				v.addq(field+".read.elements", "is a set's: a counter reads value")
			}
			if r.Next != nil {
				v.addq(field+".read.next", "a counter is one value: nothing to page through")
			}
		}
		if n := r.Next; n != nil && kind == "set" {
			fi.Next = &flow.Next{Query: n.Query, Link: n.Link}
			fi.Next.Path = path("next.json", n.JSON, "$.next_cursor")
			switch {
			case n.Link && n.Query != "":
				v.addq(field+".read.next", "give query (the cursor's parameter) or link: true (the answer gives the next page's path), not both")
			case !n.Link && n.Query == "":
				v.addq(field+".read.next", "give query: NAME (the parameter the cursor goes in) or link: true")
			}
		}
		p.Invariants = append(p.Invariants, fi)
	}
	for _, kc := range []struct {
		kind string
		m    map[string]string
	}{{"set", sets}, {"counter", counters}} {
		for _, name := range sortedKeys(kc.m) {
			if !read[kc.kind+" "+name] {
				v.addq(`ops."`+kc.m[name]+`".record.`+kc.kind, "%s %q is read by no invariant: add {%s: %s, read: ...} under invariants", kc.kind, name, kc.kind, name)
			}
		}
	}
}

func maps(m map[string]bool) map[string]bool {
	c := make(map[string]bool, len(m)+1)
	for k, b := range m {
		c[k] = b
	}
	return c
}

var (
	varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	headerRE  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

func reservedVar(name string) bool {
	switch name {
	case "seq", "uuid", "pick", "add", "sub", "client", "run", "idempotency", "random":
		return true
	}
	return false
}

// EngineMix is the mix the load engine runs: the built-in ops' entries, then each declared op's
// (load.NewDeclared, with its own retry policy when it has one), by the weights the scenario gives them.
func (p Plan) EngineMix() load.Mix {
	m := slices.Clone(p.Mix)
	byName := make(map[string]flow.Op, len(p.Ops))
	for _, op := range p.Ops {
		byName[op.Name] = op
	}
	for _, w := range p.DeclaredMix {
		if op, ok := byName[w.Op]; ok {
			var opts []load.DeclaredOption
			if r, ok := p.OpRetry[w.Op]; ok {
				opts = append(opts, load.WithRetry(r))
			}
			m = append(m, load.Weighted{Op: load.NewDeclared(op, opts...), Weight: w.Weight})
		}
	}
	return m
}

// EngineClient is load.Config.Client: the declared client section, an empty one when the scenario
// declares ops without one (its clients then have client.id and run.id, and no built-in sign-up), or nil
// for a scenario of built-in ops only.
func (p Plan) EngineClient() *flow.Client {
	if p.Client != nil {
		return p.Client
	}
	if len(p.Ops) > 0 {
		return &flow.Client{}
	}
	return nil
}
