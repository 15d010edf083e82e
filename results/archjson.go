package results

import "encoding/json"

// archFields is Arch without its methods, so that the coder below can embed it without calling itself.
type archFields Arch

// archV1 is an architecture as summary.json holds it: its fields, and the checks older than
// Arch.Checks also under "writes", "updates" and "sessions" (V1Counts), as since the first summaries.
type archV1 struct {
	archFields
	V1Counts
}

// MarshalJSON writes a with its V1 counts mirrored from Checks: written here, never stored beside them.
func (a Arch) MarshalJSON() ([]byte, error) {
	out := archV1{archFields: archFields(a)}
	for _, c := range Checks() {
		if c.V1 != nil {
			*c.V1(&out.V1Counts) = a.Checks[c.Name].Value
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads an architecture; from a summary written before Checks existed, its V1 counts
// become the checks they were (a summary that has "checks" is read as it is). An architecture that did
// not run to the end (Error) recorded nothing: its zeros are not read as counts.
func (a *Arch) UnmarshalJSON(b []byte) error {
	var in archV1
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*a = Arch(in.archFields)
	if a.Checks != nil || a.Error != "" {
		return nil
	}
	a.Checks = Findings{}
	for _, c := range Checks() {
		if c.V1 != nil {
			a.Checks[c.Name] = CheckResult{Value: *c.V1(&in.V1Counts)}
		}
	}
	return nil
}

// Count is check name's count in a: 0 when it was not checked (Checks says why) or not recorded.
func (a Arch) Count(name string) int64 { return a.Checks[name].Value }
