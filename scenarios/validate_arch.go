package scenarios

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/chaosbench/chaosbench/target/arch"
)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validateTarget reads the service under test: the reference API (no target section) or a user's image.
func validateTarget(v *positioner, f file, p *Plan) {
	t := f.Target
	if t.URL != "" || t.Compose != nil {
		validateAttach(v, f, p)
		return
	}
	if t.Image == "" {
		if t.Port != nil || t.Health != "" || len(t.Env) > 0 {
			v.add("target.image", "is required with target.port, target.health or target.env")
		}
		return
	}
	p.Service = arch.Service{Image: t.Image, Health: t.Health, Env: t.Env}
	if strings.ContainsAny(t.Image, " \t") {
		v.add("target.image", "%q: want an image reference like shop-api:dev", t.Image)
	}
	if t.Port != nil {
		p.Service.Port = *t.Port
		if *t.Port < 1 || *t.Port > 65535 {
			v.add("target.port", "%d: want 1 to 65535", *t.Port)
		}
	}
	if t.Health != "" && !strings.HasPrefix(t.Health, "/") {
		v.add("target.health", "%q: want a path like /readyz", t.Health)
	}
	for _, k := range sortedKeys(t.Env) {
		switch {
		case !envNameRE.MatchString(k):
			v.add("target.env."+k, "%q is not an environment variable name", k)
		case k == "NODE_ID" || k == "REDIS_URL":
			v.add("target.env."+k, "chaosbench sets %s itself (docs/contract.md)", k)
		}
	}
}

// validateAttach reads target.url and target.compose: a service chaosbench attaches to and starts nothing
// of. What chaosbench would otherwise build (architectures, the stack's settings, an image) means nothing
// here and is refused; the port and readiness path still say how to probe its nodes.
func validateAttach(v *positioner, f file, p *Plan) {
	t := f.Target
	a := &Attach{URL: t.URL}
	p.Attach = a
	p.Service = arch.Service{Health: t.Health}
	if t.Port != nil {
		p.Service.Port = *t.Port
	}
	u, err := url.Parse(t.URL)
	switch {
	case t.URL == "":
		v.add("target.url", "is required with target.compose: where the load goes (e.g. http://127.0.0.1:8080)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.add("target.url", "%q: want http://HOST:PORT (on this machine)", t.URL)
	}
	if t.Image != "" {
		v.add("target.image", "chaosbench starts no image when it attaches to target.url: use one or the other")
	}
	if len(t.Env) > 0 {
		v.add("target.env", "chaosbench starts nothing when it attaches to target.url, so it sets no environment")
	}
	if t.Health != "" && !strings.HasPrefix(t.Health, "/") {
		v.add("target.health", "%q: want a path like /readyz", t.Health)
	}
	if c := t.Compose; c != nil {
		a.Project, a.API, a.Redis, a.Nginx = c.Project, c.API, c.Redis, c.Nginx
		if c.Project == "" {
			v.add("target.compose.project", "is required: the compose project's name (docker compose ls)")
		}
		if c.API == "" {
			v.add("target.compose.api", "is required: the compose service of the API")
		}
	}
	for _, field := range []struct {
		name string
		set  bool
	}{{"architectures", len(f.Architectures) > 0}, {"custom_architectures", len(f.CustomArchitectures) > 0},
		{"stack", f.Stack.Replicas != nil || f.Stack.Redis != (redisSpec{}) || f.Stack.SessionTTL != "" || f.Stack.TokenLeeway != "" ||
			f.Stack.Postgres != (postgresSpec{})}} {
		if field.set {
			v.add(field.name, "chaosbench starts nothing when it attaches to target.url: the service runs as it is")
		}
	}
	name := "attached"
	if a.Project != "" && nameRE.MatchString(strings.ToLower(a.Project)) {
		name = strings.ToLower(a.Project)
	}
	p.Architectures = []arch.Arch{{Name: name, Service: p.Service}}
}

// customName is the architecture's name for a user's image when the scenario names none: the image's
// last path element without its tag (registry.example/team/shop-api:dev -> shop-api).
func customName(image string) string {
	n := image[strings.LastIndex(image, "/")+1:]
	n, _, _ = strings.Cut(n, ":")
	n, _, _ = strings.Cut(n, "@")
	n = strings.ToLower(n)
	if !nameRE.MatchString(n) {
		return "service"
	}
	return n
}

// validateArchitectures resolves presets and custom architectures. With a user's image (target.image) the
// reference API's knobs mean nothing: presets and those knobs are refused, and only the balancer varies.
func validateArchitectures(v *positioner, f file, p *Plan) {
	if p.Attach != nil {
		return // validateAttach set the one architecture
	}
	custom := map[string]arch.Arch{}
	image := p.Service.Custom()
	for i, c := range f.CustomArchitectures {
		field := fmt.Sprintf("custom_architectures[%d]", i)
		if image {
			for _, k := range []struct {
				name string
				set  bool
			}{{"base", c.Base != ""}, {"auth", c.Auth != ""}, {"sessions", c.Sessions != ""},
				{"idempotency", c.Idempotency != nil}, {"concurrency", c.Concurrency != ""},
				{"token_pad_bytes", c.TokenPadBytes != nil}, {"refresh", c.Refresh != ""},
				{"refresh_grace", c.RefreshGrace != ""}, {"store", c.Store != ""}, {"cache_ttl", c.CacheTTL != ""},
				{"postgres_standby", c.PostgresStandby != ""}} {
				if k.set {
					v.add(field+"."+k.name, "is a knob of the reference API, which target.image (%s) replaces: "+
						"only balancer applies to a custom image", f.Target.Image)
				}
			}
		}
		if !nameRE.MatchString(c.Name) {
			v.add(field+".name", "%q: want lowercase letters, digits and dashes", c.Name)
			continue
		}
		if _, err := arch.Preset(c.Name); err == nil {
			v.add(field+".name", "%q is a preset; give the custom architecture another name", c.Name)
			continue
		}
		if _, dup := custom[c.Name]; dup {
			v.add(field+".name", "%q is defined twice", c.Name)
			continue
		}
		a := arch.Arch{Auth: "jwt", Sessions: "redis", Idempotency: true, Concurrency: "etag", Balancer: arch.RoundRobin}
		if image {
			a = arch.Arch{Service: p.Service, Balancer: arch.RoundRobin}
		}
		if c.Base != "" && !image {
			base, err := arch.Preset(c.Base)
			if err != nil {
				v.add(field+".base", "%v", err)
			} else {
				a = base
			}
		}
		a.Name = c.Name
		if c.Auth != "" && !image {
			a.Auth = c.Auth
		}
		if c.Sessions != "" && !image {
			a.Sessions = c.Sessions
		}
		if c.Idempotency != nil && !image {
			a.Idempotency = *c.Idempotency
		}
		if c.Concurrency != "" && !image {
			a.Concurrency = c.Concurrency
		}
		if c.Balancer != "" {
			a.Balancer = arch.Balancer(c.Balancer)
		}
		if c.TokenPadBytes != nil && !image {
			a.TokenPad = *c.TokenPadBytes
		}
		if c.MinReplicasToWrite != nil {
			a.MinReplicasToWrite = *c.MinReplicasToWrite
		}
		if c.Refresh != "" && !image {
			a.Refresh = duration(v, field+".refresh", c.Refresh, true)
		}
		if c.RefreshGrace != "" && !image {
			a.RefreshGrace = duration(v, field+".refresh_grace", c.RefreshGrace, false)
		}
		if c.Store != "" && !image {
			a.Store = c.Store
		}
		if c.CacheTTL != "" && !image {
			a.CacheTTL = duration(v, field+".cache_ttl", c.CacheTTL, false)
		}
		if c.PostgresStandby != "" && !image {
			a.PostgresStandby = c.PostgresStandby
		}
		if a.Balancer == arch.HAProxy {
			refuseEdgeOnHAProxy(v, field, c)
		} else {
			applyEdge(&a.Edge, c)
		}
		for _, err := range a.Validate() {
			knob, _, _ := strings.Cut(err.Error(), " ")
			v.add(field+"."+knob, "%v", err)
		}
		custom[c.Name] = a
	}
	names := f.Architectures
	if len(names) == 0 && image {
		if len(custom) == 0 {
			p.Architectures = []arch.Arch{{Name: customName(p.Service.Image), Service: p.Service, Balancer: arch.RoundRobin}}
			return
		}
		names = sortedKeys(custom)
	}
	if len(names) == 0 {
		names = []string{"stateless"}
	}
	seen := map[string]bool{}
	for i, n := range names {
		field := fmt.Sprintf("architectures[%d]", i)
		if seen[n] {
			v.add(field, "%q is listed twice", n)
			continue
		}
		seen[n] = true
		if a, ok := custom[n]; ok {
			p.Architectures = append(p.Architectures, a)
			continue
		}
		if _, err := arch.Preset(n); err == nil && image {
			v.add(field, "%q is a preset of the reference API's knobs, which target.image (%s) replaces: name a "+
				"custom_architectures entry that sets only balancer, or leave architectures out", n, f.Target.Image)
			continue
		}
		a, err := arch.Preset(n)
		if err != nil {
			known := append(arch.PresetNames(), sortedKeys(custom)...)
			v.add(field, "unknown architecture %q (known: %s)", n, strings.Join(known, ", "))
			continue
		}
		p.Architectures = append(p.Architectures, a)
	}
}

// validateStack reads replicas, Redis settings and the session TTL.
func validateStack(v *positioner, f file, p *Plan) {
	p.Replicas = DefaultReplicas
	if f.Stack.Replicas != nil {
		p.Replicas = *f.Stack.Replicas
		if p.Replicas < 1 || p.Replicas > 9 {
			v.add("stack.replicas", "%d: want 1 to 9", p.Replicas)
		}
	}
	p.Redis = arch.RedisConfig{Persistence: arch.PersistNone, MaxMemory: f.Stack.Redis.MaxMemory, Eviction: f.Stack.Redis.Eviction}
	switch per := f.Stack.Redis.Persistence; per {
	case "", "none":
	case "everysec", "always":
		p.Redis.Persistence = arch.Persistence(per)
	default:
		v.add("stack.redis.persistence", "%q: want none, everysec or always", per)
	}
	if m := f.Stack.Redis.MaxMemory; m != "" && !regexp.MustCompile(`^(?i)\d+(b|kb|mb|gb)?$`).MatchString(m) {
		v.add("stack.redis.maxmemory", "%q: want a size like 64mb", m)
	}
	// stack.redis.min_replicas_to_write is every architecture's that does not set its own
	// (custom_architectures[i].min_replicas_to_write).
	own := map[string]bool{}
	for _, c := range f.CustomArchitectures {
		own[c.Name] = c.MinReplicasToWrite != nil
	}
	if n := f.Stack.Redis.MinReplicasToWrite; n != 0 {
		var said []string
		for i := range p.Architectures {
			a := &p.Architectures[i]
			if own[a.Name] {
				continue
			}
			a.MinReplicasToWrite = n
			if err := a.CheckMinReplicas(); err != nil {
				_, msg, _ := strings.Cut(err.Error(), " ") // the field names the knob
				if !slices.Contains(said, msg) {           // a bad count once, not once per architecture
					v.add("stack.redis.min_replicas_to_write", "%s", msg)
					said = append(said, msg)
				}
			}
		}
	}
	validateStackPostgres(v, f, p) // validate_postgres.go
	if e := f.Stack.Redis.Eviction; e != "" && !slices.Contains([]string{"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}, e) {
		v.add("stack.redis.eviction", "%q is not a Redis maxmemory-policy (e.g. allkeys-lru, noeviction)", e)
	}
	if f.Stack.SessionTTL != "" {
		p.SessionTTL = duration(v, "stack.session_ttl", f.Stack.SessionTTL, true)
		for _, a := range p.Architectures {
			if a.Refresh > 0 && p.SessionTTL > 0 && a.Refresh >= p.SessionTTL {
				v.add("stack.session_ttl", "%s is not longer than architecture %s's refresh (%s): its access tokens would outlive the session", p.SessionTTL, a.Name, a.Refresh)
			}
		}
	}
	if f.Stack.TokenLeeway != "" {
		if p.Service.Custom() {
			v.add("stack.token_leeway", "is the reference API's TOKEN_LEEWAY: a custom image (%s) does not read it", p.Service.Image)
		}
		d := duration(v, "stack.token_leeway", f.Stack.TokenLeeway, false)
		p.TokenLeeway = &d
	}
}

// applyEdge sets the edge knobs a custom architecture names; the others keep their base's values.
func applyEdge(e *arch.Edge, c customArch) {
	if c.TLS != nil || c.ClientKeepAlive != nil || c.UpstreamKeepAlive != nil || c.HTTP2 != nil {
		e.Measure = true
	}
	if c.HTTP2 != nil {
		e.HTTP2 = *c.HTTP2
	}
	if c.TLS != nil {
		e.TLS = *c.TLS
	}
	if c.ClientKeepAlive != nil {
		e.NoClientKeepAlive = !*c.ClientKeepAlive
	}
	if c.UpstreamKeepAlive != nil {
		e.NoUpstreamKeepAlive = !*c.UpstreamKeepAlive
	}
}
