package scenarios

import "github.com/chaosbench/chaosbench/chaos"

// checkCacheFault refuses a fault that needs the reference API's resource cache
// (cache-invalidation-loss) on a scenario with an architecture that has none: there would be no
// invalidation to lose, and the fault would pass as if it had run.
func checkCacheFault(v *positioner, field string, k chaos.Kind, p *Plan) {
	if !k.Cache {
		return
	}
	if p.Attach != nil || p.Service.Custom() {
		v.add(field+".kind", "%s drops the reference API's cache invalidations, which %s does not make", k.Name, serviceText(p))
		return
	}
	for _, a := range p.Architectures {
		if !a.UsesCache() {
			v.add(field+".kind", "%s needs the resource cache: architecture %s has none (set store: postgres and cache_ttl)",
				k.Name, a.Name)
			return
		}
	}
}
