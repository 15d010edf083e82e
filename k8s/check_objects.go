package k8s

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// strs turns validation's messages into field errors.
func strs(p *field.Path, v any, msgs []string) field.ErrorList {
	var out field.ErrorList
	for _, msg := range msgs {
		out = append(out, field.Invalid(p, v, msg))
	}
	return out
}

// checkSelector requires a valid selector that selects the template's own labels.
func checkSelector(sel *metav1.LabelSelector, podLabels map[string]string, p *field.Path) field.ErrorList {
	if sel == nil {
		return field.ErrorList{field.Required(p, "")}
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return field.ErrorList{field.Invalid(p, sel, err.Error())}
	}
	if s.Empty() || !s.Matches(labels.Set(podLabels)) {
		return field.ErrorList{field.Invalid(p, sel, "does not select the template's labels (spec.template.metadata.labels)")}
	}
	return nil
}

func (ix index) checkJob(d document, j *batchv1.Job) field.ErrorList {
	var fes field.ErrorList
	spec := field.NewPath("spec")
	indexed := j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion
	if j.Spec.CompletionMode != nil && !indexed && *j.Spec.CompletionMode != batchv1.NonIndexedCompletion {
		fes = append(fes, field.NotSupported(spec.Child("completionMode"), *j.Spec.CompletionMode, []string{"Indexed", "NonIndexed"}))
	}
	if indexed && j.Spec.Completions == nil {
		fes = append(fes, field.Required(spec.Child("completions"), "when completion mode is Indexed"))
	}
	if j.Spec.BackoffLimitPerIndex != nil && !indexed {
		fes = append(fes, field.Forbidden(spec.Child("backoffLimitPerIndex"), "requires completionMode Indexed"))
	}
	for _, f := range []struct {
		name string
		v    *int32
	}{{"completions", j.Spec.Completions}, {"parallelism", j.Spec.Parallelism}, {"backoffLimitPerIndex", j.Spec.BackoffLimitPerIndex}} {
		if f.v != nil && *f.v < 0 {
			fes = append(fes, field.Invalid(spec.Child(f.name), *f.v, "must be at least 0"))
		}
	}
	if a := j.Spec.ActiveDeadlineSeconds; a != nil && *a <= 0 {
		fes = append(fes, field.Invalid(spec.Child("activeDeadlineSeconds"), *a, "must be positive"))
	}
	if j.Spec.Selector != nil || (j.Spec.ManualSelector != nil && *j.Spec.ManualSelector) {
		fes = append(fes, field.Forbidden(spec.Child("selector"), "the Job controller generates it"))
	}
	rp := j.Spec.Template.Spec.RestartPolicy
	if rp != corev1.RestartPolicyNever && rp != corev1.RestartPolicyOnFailure {
		fes = append(fes, field.NotSupported(spec.Child("template", "spec", "restartPolicy"), rp, []string{"Never", "OnFailure"}))
	}
	t := template{owner: d, labels: j.Spec.Template.Labels, spec: &j.Spec.Template.Spec, indexed: indexed}
	return append(fes, ix.checkPod(t, spec.Child("template", "spec"))...)
}

// checkService requires a selector that selects a pod template of the stream whose containers name its
// ports' targetPorts.
func (ix index) checkService(s *corev1.Service) field.ErrorList {
	var fes field.ErrorList
	spec := field.NewPath("spec")
	var tpl *template
	if len(s.Spec.Selector) == 0 {
		fes = append(fes, field.Required(spec.Child("selector"), "the manifests' Services select their pods"))
	} else {
		for i := range ix.templates {
			if labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(ix.templates[i].labels)) {
				tpl = &ix.templates[i]
				break
			}
		}
		if tpl == nil {
			fes = append(fes, field.Invalid(spec.Child("selector"), s.Spec.Selector, "selects no pod template of these manifests"))
		}
	}
	if len(s.Spec.Ports) == 0 {
		fes = append(fes, field.Required(spec.Child("ports"), ""))
	}
	names := map[string]bool{}
	for i, p := range s.Spec.Ports {
		pp := spec.Child("ports").Index(i)
		if names[p.Name] {
			fes = append(fes, field.Duplicate(pp.Child("name"), p.Name))
		}
		names[p.Name] = true
		if len(s.Spec.Ports) > 1 || p.Name != "" {
			fes = append(fes, strs(pp.Child("name"), p.Name, validation.IsDNS1123Label(p.Name))...)
		}
		fes = append(fes, strs(pp.Child("port"), p.Port, validation.IsValidPortNum(int(p.Port)))...)
		if tpl != nil && p.TargetPort.Type == intstr.String && !hasPort(tpl.spec.Containers, p.TargetPort.StrVal) {
			fes = append(fes, field.NotFound(pp.Child("targetPort"), p.TargetPort.StrVal))
		}
	}
	return fes
}

func hasPort(cs []corev1.Container, name string) bool {
	for _, c := range cs {
		for _, p := range c.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}
