package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/flow"
	"github.com/chaosbench/chaosbench/load"
)

// validateLoad reads clients, phases, the mix and the resource count.
func validateLoad(v *positioner, f file, p *Plan) {
	p.Clients = DefaultClients
	if f.Clients != nil {
		p.Clients = *f.Clients
		if p.Clients < 1 || p.Clients > 10000 {
			v.add("clients", "%d: want 1 to 10000", p.Clients)
		}
	}
	if len(f.Phases) == 0 {
		v.add("phases", "at least one phase is required (e.g. - {duration: 30s, rate: 200/s})")
	}
	phaseNames := map[string]bool{}
	for i, ph := range f.Phases {
		field := fmt.Sprintf("phases[%d]", i)
		out := Phase{Name: ph.Name}
		if out.Name == "" {
			out.Name = fmt.Sprintf("phase-%d", i+1)
		}
		if phaseNames[out.Name] {
			v.add(field+".name", "%q is used twice", out.Name)
		}
		phaseNames[out.Name] = true
		if ph.Duration == "" {
			v.add(field+".duration", "is required (e.g. 30s)")
		} else {
			out.Duration = duration(v, field+".duration", ph.Duration, true)
		}
		switch {
		case ph.Rate != "" && (ph.From != "" || ph.To != ""):
			v.add(field+".rate", "give either rate (constant) or from and to (a ramp), not both")
		case ph.Rate != "":
			out.From = rate(v, field+".rate", ph.Rate)
			out.To = out.From
		case ph.From != "" && ph.To != "":
			out.From = rate(v, field+".from", ph.From)
			out.To = rate(v, field+".to", ph.To)
		default:
			v.add(field, "needs rate (e.g. 200/s) or from and to (a ramp)")
		}
		p.Phases = append(p.Phases, out)
	}
	if len(f.Mix) == 0 && len(f.Ops) > 0 {
		// The built-in ops speak the reference contract, which a scenario of its own API does not.
		for _, name := range sortedKeys(f.Ops) {
			p.DeclaredMix = append(p.DeclaredMix, DeclaredWeight{Op: name, Weight: 1})
		}
	} else if len(f.Mix) == 0 && f.Client != nil {
		v.add("client", "declares a client section but no ops: the mix would be the built-in ops, which run the "+
			"contract's own sign-up and login, not this section; declare ops (and a mix of them)")
	} else if len(f.Mix) == 0 {
		p.Mix = load.DefaultMix()
	} else {
		total := 0
		for _, name := range sortedKeys(f.Mix) {
			w := f.Mix[name]
			if _, declared := f.Ops[name]; declared {
				if w < 0 {
					v.add(`mix."`+name+`"`, "weight %d: want 0 or more", w)
					continue
				}
				total += w
				if w > 0 {
					p.DeclaredMix = append(p.DeclaredMix, DeclaredWeight{Op: name, Weight: w})
				}
				continue
			}
			op, err := load.LookupOp(name) // any registered op, built-in or not
			if err != nil {
				v.add(`mix."`+name+`"`, "%v", err)
				continue
			}
			if w < 0 {
				v.add(`mix."`+name+`"`, "weight %d: want 0 or more", w)
				continue
			}
			if w > 0 && (f.Client != nil || len(f.Ops) > 0) {
				// A declared scenario's clients run its client section, not the contract's sign-up and login:
				// a built-in op would run without the session it needs, against an API that may not speak it.
				v.add(`mix."`+name+`"`, "is a built-in op of the reference contract: a scenario that declares its own "+
					"client or ops weights only its declared ops (set it to 0 or drop it)")
				continue
			}
			total += w
			if w > 0 {
				p.Mix = append(p.Mix, load.Weighted{Op: op, Weight: w})
			}
		}
		if total == 0 && len(v.errs) == 0 {
			v.add("mix", "weights add up to 0: nothing would be sent")
		}
	}
	if f.Resources != nil {
		p.Resources = *f.Resources
		if p.Resources < 1 || p.Resources > 100000 {
			v.add("resources", "%d: want 1 to 100000", p.Resources)
		}
	}
}

// validateRetry reads the retry policy and the per-attempt timeout.
func validateRetry(v *positioner, f file, p *Plan) {
	p.Retry = retryPolicy(v, "retry", f.Retry, load.DefaultRetry())
	for _, name := range sortedKeys(f.Ops) {
		o := f.Ops[name]
		if o.Retry == nil || !slices.ContainsFunc(p.Ops, func(op flow.Op) bool { return op.Name == name }) {
			continue // no retry of its own, or an op refused already
		}
		field := `ops."` + name + `".retry`
		pol := retryPolicy(v, field, *o.Retry, p.Retry)
		if pol.Budget > p.Retry.Budget {
			at := field + ".budget"
			if o.Retry.Budget == "" {
				at = field
			}
			v.addq(at, "%s exceeds the scenario's retry.budget %s (the run waits for its requests by that one): raise retry.budget", pol.Budget, p.Retry.Budget)
		}
		if p.OpRetry == nil {
			p.OpRetry = map[string]load.RetryPolicy{}
		}
		p.OpRetry[name] = pol
	}
	p.Timeout = DefaultTimeout
	if f.Timeout != "" {
		p.Timeout = duration(v, "timeout", f.Timeout, true)
	}
}

// retryPolicy reads the retry section at field over base: each field given replaces base's (on's
// statuses and errors each on their own).
func retryPolicy(v *positioner, field string, r retrySpec, base load.RetryPolicy) load.RetryPolicy {
	p := base
	dur := func(sub, s string) time.Duration {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			v.addq(field+"."+sub, "%q is not a duration (e.g. 50ms, 1s)", s)
		case d <= 0:
			v.addq(field+"."+sub, "%q must be positive", s)
		}
		return d
	}
	if r.Attempts != nil {
		p.Attempts = *r.Attempts
		if p.Attempts < 1 || p.Attempts > 10 {
			v.addq(field+".attempts", "%d: want 1 to 10 (1 means no retry)", p.Attempts)
		}
	}
	if r.Backoff != "" {
		p.Base = dur("backoff", r.Backoff)
	}
	if r.MaxBackoff != "" {
		p.Max = dur("max_backoff", r.MaxBackoff)
	}
	if r.Budget != "" {
		p.Budget = dur("budget", r.Budget)
	}
	if p.Max < p.Base && (r.Backoff != "" || r.MaxBackoff != "") {
		at := field + ".max_backoff"
		if r.MaxBackoff == "" {
			at = field + ".backoff"
		}
		v.addq(at, "max_backoff %s is below backoff %s", p.Max, p.Base)
	}
	if o := r.On; o != nil {
		on := load.RetryOn{}
		if base.On != nil {
			on = *base.On
		}
		if o.Statuses != nil {
			on.Statuses = o.Statuses
			for i, st := range o.Statuses {
				at := fmt.Sprintf("%s.on.statuses[%d]", field, i)
				switch {
				case st < 100 || st > 599:
					v.addq(at, "%d is not an HTTP status (100..599)", st)
				case st < 300:
					v.addq(at, "%d is a success: retrying it would send the call again for nothing", st)
				case slices.Contains(o.Statuses[:i], st):
					v.addq(at, "%d is listed twice", st)
				}
			}
		}
		if o.Errors != nil {
			on.Errors = o.Errors
			for i, e := range o.Errors {
				if !slices.Contains(load.RetryErrors(), e) {
					v.addq(fmt.Sprintf("%s.on.errors[%d]", field, i), "%q: want one of %s (connect: never reached the server, "+
						"always safe; timeout and reset: the server may have applied it)", e, strings.Join(load.RetryErrors(), ", "))
				}
			}
		}
		if on.Statuses == nil && on.Errors == nil {
			v.addq(field+".on", "give statuses: [...] and/or errors: [...] (without on, the reference contract's rule applies)")
		}
		p.On = &on
	}
	return p
}
