package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// kinds are the types Check decodes, by apiVersion/kind: those Render writes. Any other kind is refused,
// not skipped, so that nothing passes unchecked.
var kinds = map[string]func() runtime.Object{
	"v1/Namespace":       func() runtime.Object { return &corev1.Namespace{} },
	"v1/ConfigMap":       func() runtime.Object { return &corev1.ConfigMap{} },
	"v1/Secret":          func() runtime.Object { return &corev1.Secret{} },
	"v1/Service":         func() runtime.Object { return &corev1.Service{} },
	"apps/v1/Deployment": func() runtime.Object { return &appsv1.Deployment{} },
	"batch/v1/Job":       func() runtime.Object { return &batchv1.Job{} },
}

// document is one object of the stream, where it starts and what it decoded to.
type document struct {
	line       int
	kind, name string
	obj        runtime.Object
}

func (d document) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s %s: %s", d.line, d.kind, d.name, fmt.Sprintf(format, args...))
}

// Check reads a stream of manifests and reports every problem at once, each with the line its document
// starts at, its kind and name, and the field. It is an offline check, without a cluster:
//
//   - every document is decoded strictly into its k8s.io/api type: an unknown or misspelt field, a
//     duplicate key or a value of the wrong type is an error (the API server's strict field validation
//     refuses the same);
//   - object metadata goes through apimachinery's ValidateObjectMeta (names, labels, annotations), and
//     names, ports, environment variables and label selectors through apimachinery's validation
//     functions, the ones the API server's validation calls;
//   - references inside the stream must resolve, which a server would not check: a Service selects a
//     pod template and names its ports, probes name container ports, mounts name volumes, a ConfigMap or
//     Secret a pod reads is in the stream with that key, and every $(VAR) in a command is declared (or is
//     JOB_COMPLETION_INDEX in an Indexed Job).
//
// It is not the API server's whole validation (k8s.io/kubernetes/pkg/apis/*/validation, defaulting,
// admission): what it leaves out is listed in docs/kubernetes.md.
func Check(data []byte) []error {
	var errs []error
	var docs []document
	for _, part := range splitDocuments(data) {
		d, err := decode(part.line, part.raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if d.obj != nil {
			docs = append(docs, d)
		}
	}
	ix := indexOf(docs)
	for _, d := range docs {
		errs = append(errs, ix.check(d)...)
	}
	return errs
}

type part struct {
	line int
	raw  []byte
}

// splitDocuments cuts a stream at its "---" lines, keeping the line each document starts at.
func splitDocuments(data []byte) []part {
	var parts []part
	cur := part{line: 1}
	for i, l := range bytes.SplitAfter(data, []byte("\n")) {
		if strings.TrimRight(string(l), " \r\n") == "---" {
			parts = append(parts, cur)
			cur = part{line: i + 2}
			continue
		}
		cur.raw = append(cur.raw, l...)
	}
	return append(parts, cur)
}

// decode reads a document's type, then the whole document strictly into it; a document of comments
// only is no object.
func decode(line int, raw []byte) (document, error) {
	var tm metav1.PartialObjectMetadata // its type and name, for the messages
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		return document{}, fmt.Errorf("line %d: %w", line, err)
	}
	if tm.APIVersion == "" && tm.Kind == "" {
		var rest map[string]any
		if err := yaml.Unmarshal(raw, &rest); err == nil && len(rest) == 0 {
			return document{}, nil
		}
		return document{}, fmt.Errorf("line %d: a document without apiVersion and kind", line)
	}
	newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
	if !ok {
		return document{}, fmt.Errorf("line %d: %s %s is not a kind the manifests use", line, tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	d := document{line: line, kind: tm.Kind, name: tm.Name, obj: obj}
	// YAMLToJSONStrict refuses duplicate keys; sigs.k8s.io/json's strict decode refuses unknown fields
	// and names them by their path, as the API server's strict field validation does.
	js, err := yaml.YAMLToJSONStrict(raw)
	if err != nil {
		return document{}, d.errorf("%v", err)
	}
	strict, err := kjson.UnmarshalStrict(js, obj)
	if err != nil {
		return document{}, d.errorf("%v", err)
	}
	if err := errors.Join(strict...); err != nil {
		return document{}, d.errorf("%v", err)
	}
	return d, nil
}

// template is a pod template of the stream and what owns it.
type template struct {
	owner   document
	labels  map[string]string
	spec    *corev1.PodSpec
	indexed bool // of an Indexed Job: JOB_COMPLETION_INDEX is set by the Job controller
}

// index is what references resolve against.
type index struct {
	namespaces map[string]bool
	configMaps map[string]map[string]bool // name -> keys
	secrets    map[string]map[string]bool
	templates  []template
}

func indexOf(docs []document) index {
	ix := index{namespaces: map[string]bool{}, configMaps: map[string]map[string]bool{}, secrets: map[string]map[string]bool{}}
	for _, d := range docs {
		switch o := d.obj.(type) {
		case *corev1.Namespace:
			ix.namespaces[o.Name] = true
		case *corev1.ConfigMap:
			ix.configMaps[o.Name] = keys(o.Data, o.BinaryData)
		case *corev1.Secret:
			ix.secrets[o.Name] = keys(o.StringData, o.Data)
		case *appsv1.Deployment:
			ix.templates = append(ix.templates, template{owner: d, labels: o.Spec.Template.Labels, spec: &o.Spec.Template.Spec})
		case *batchv1.Job:
			indexed := o.Spec.CompletionMode != nil && *o.Spec.CompletionMode == batchv1.IndexedCompletion
			ix.templates = append(ix.templates, template{owner: d, labels: o.Spec.Template.Labels, spec: &o.Spec.Template.Spec, indexed: indexed})
		}
	}
	return ix
}

func keys[A, B any](a map[string]A, b map[string]B) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func (ix index) check(d document) []error {
	var fes field.ErrorList
	m := d.obj.(metav1.Object)
	om := metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), Labels: m.GetLabels(), Annotations: m.GetAnnotations()}
	switch o := d.obj.(type) {
	case *corev1.Namespace:
		fes = append(fes, apivalidation.ValidateObjectMeta(&om, false, apivalidation.NameIsDNSLabel, field.NewPath("metadata"))...)
	case *corev1.Service:
		fes = append(fes, apivalidation.ValidateObjectMeta(&om, true, apivalidation.NameIsDNS1035Label, field.NewPath("metadata"))...)
		fes = append(fes, ix.checkService(o)...)
	case *corev1.ConfigMap:
		fes = append(fes, apivalidation.ValidateObjectMeta(&om, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
		for k := range o.Data {
			fes = append(fes, strs(field.NewPath("data").Key(k), k, validation.IsConfigMapKey(k))...)
		}
	case *corev1.Secret:
		fes = append(fes, apivalidation.ValidateObjectMeta(&om, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
		for k := range keys(o.StringData, o.Data) {
			fes = append(fes, strs(field.NewPath("data").Key(k), k, validation.IsConfigMapKey(k))...)
		}
	case *appsv1.Deployment:
		fes = append(fes, apivalidation.ValidateObjectMeta(&om, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
		fes = append(fes, checkSelector(o.Spec.Selector, o.Spec.Template.Labels, field.NewPath("spec", "selector"))...)
		if o.Spec.Replicas != nil && *o.Spec.Replicas < 0 {
			fes = append(fes, field.Invalid(field.NewPath("spec", "replicas"), *o.Spec.Replicas, "must be at least 0"))
		}
		if rp := o.Spec.Template.Spec.RestartPolicy; rp != "" && rp != corev1.RestartPolicyAlways {
			fes = append(fes, field.NotSupported(field.NewPath("spec", "template", "spec", "restartPolicy"), rp, []string{"Always"}))
		}
		fes = append(fes, ix.checkPod(template{owner: d, spec: &o.Spec.Template.Spec}, field.NewPath("spec", "template", "spec"))...)
	case *batchv1.Job:
		// A Job's pods carry its name in a label (job-name): a label value's 63 characters at most.
		fes = append(fes, apivalidation.ValidateObjectMeta(&om, true, apivalidation.NameIsDNSLabel, field.NewPath("metadata"))...)
		fes = append(fes, ix.checkJob(d, o)...)
	}
	if ns := m.GetNamespace(); ns != "" && len(ix.namespaces) > 0 && !ix.namespaces[ns] {
		fes = append(fes, field.NotFound(field.NewPath("metadata", "namespace"), ns))
	}
	var errs []error
	for _, fe := range fes {
		errs = append(errs, d.errorf("%v", fe))
	}
	return errs
}

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

var varRef = regexp.MustCompile(`\$\(([^)]*)\)`)

// checkPod checks a pod template's containers and volumes, and what they refer to.
func (ix index) checkPod(t template, p *field.Path) field.ErrorList {
	var fes field.ErrorList
	spec := t.spec
	if len(spec.Containers) == 0 {
		fes = append(fes, field.Required(p.Child("containers"), ""))
	}
	volumes := map[string]bool{}
	for i, v := range spec.Volumes {
		vp := p.Child("volumes").Index(i)
		fes = append(fes, strs(vp.Child("name"), v.Name, validation.IsDNS1123Label(v.Name))...)
		if volumes[v.Name] {
			fes = append(fes, field.Duplicate(vp.Child("name"), v.Name))
		}
		volumes[v.Name] = true
		sources := 0
		if v.EmptyDir != nil {
			sources++
		}
		if cm := v.ConfigMap; cm != nil {
			sources++
			fes = append(fes, ix.ref(ix.configMaps, "ConfigMap", cm.Name, "", cm.Optional, vp.Child("configMap", "name"))...)
		}
		if s := v.Secret; s != nil {
			sources++
			fes = append(fes, ix.ref(ix.secrets, "Secret", s.SecretName, "", s.Optional, vp.Child("secret", "secretName"))...)
		}
		if sources != 1 {
			fes = append(fes, field.Invalid(vp, v.Name, "want exactly one of emptyDir, configMap, secret (the sources the manifests use)"))
		}
	}
	names := map[string]bool{}
	for i, c := range spec.Containers {
		cp := p.Child("containers").Index(i)
		fes = append(fes, strs(cp.Child("name"), c.Name, validation.IsDNS1123Label(c.Name))...)
		if names[c.Name] {
			fes = append(fes, field.Duplicate(cp.Child("name"), c.Name))
		}
		names[c.Name] = true
		if strings.TrimSpace(c.Image) == "" {
			fes = append(fes, field.Required(cp.Child("image"), ""))
		}
		fes = append(fes, ix.checkContainer(t, c, volumes, cp)...)
	}
	return fes
}

func (ix index) checkContainer(t template, c corev1.Container, volumes map[string]bool, cp *field.Path) field.ErrorList {
	var fes field.ErrorList
	ports := map[string]bool{}
	for j, port := range c.Ports {
		pp := cp.Child("ports").Index(j)
		fes = append(fes, strs(pp.Child("containerPort"), port.ContainerPort, validation.IsValidPortNum(int(port.ContainerPort)))...)
		if port.Name != "" {
			fes = append(fes, strs(pp.Child("name"), port.Name, validation.IsValidPortName(port.Name))...)
			if ports[port.Name] {
				fes = append(fes, field.Duplicate(pp.Child("name"), port.Name))
			}
			ports[port.Name] = true
		}
	}
	declared := map[string]bool{}
	if t.indexed {
		declared["JOB_COMPLETION_INDEX"] = true
	}
	for j, e := range c.Env {
		ep := cp.Child("env").Index(j)
		fes = append(fes, strs(ep.Child("name"), e.Name, validation.IsEnvVarName(e.Name))...)
		declared[e.Name] = true
		if e.ValueFrom == nil {
			continue
		}
		if e.Value != "" {
			fes = append(fes, field.Invalid(ep.Child("valueFrom"), "", "may not be set when value is not empty"))
		}
		vf := e.ValueFrom
		switch {
		case vf.FieldRef != nil && vf.SecretKeyRef == nil && vf.ConfigMapKeyRef == nil:
			fes = append(fes, checkFieldPath(vf.FieldRef.FieldPath, ep.Child("valueFrom", "fieldRef", "fieldPath"))...)
		case vf.SecretKeyRef != nil && vf.FieldRef == nil && vf.ConfigMapKeyRef == nil:
			r := vf.SecretKeyRef
			fes = append(fes, ix.ref(ix.secrets, "Secret", r.Name, r.Key, r.Optional, ep.Child("valueFrom", "secretKeyRef"))...)
		case vf.ConfigMapKeyRef != nil && vf.FieldRef == nil && vf.SecretKeyRef == nil:
			r := vf.ConfigMapKeyRef
			fes = append(fes, ix.ref(ix.configMaps, "ConfigMap", r.Name, r.Key, r.Optional, ep.Child("valueFrom", "configMapKeyRef"))...)
		default:
			fes = append(fes, field.Invalid(ep.Child("valueFrom"), "", "want exactly one of fieldRef, secretKeyRef, configMapKeyRef"))
		}
	}
	// The kubelet expands $(VAR) from the container's environment and leaves an unknown one as it is: a
	// misspelt reference would reach the program as literal text.
	for _, list := range []struct {
		name string
		args []string
	}{{"command", c.Command}, {"args", c.Args}} {
		for j, a := range list.args {
			for _, m := range varRef.FindAllStringSubmatchIndex(a, -1) {
				if m[0] > 0 && a[m[0]-1] == '$' {
					continue // $$(X) is an escaped, literal $(X)
				}
				if name := a[m[2]:m[3]]; !declared[name] {
					fes = append(fes, field.Invalid(cp.Child(list.name).Index(j), a, fmt.Sprintf("$(%s) is not in the container's environment", name)))
				}
			}
		}
	}
	mounts := map[string]bool{}
	for j, m := range c.VolumeMounts {
		mp := cp.Child("volumeMounts").Index(j)
		if !volumes[m.Name] {
			fes = append(fes, field.NotFound(mp.Child("name"), m.Name))
		}
		if !strings.HasPrefix(m.MountPath, "/") {
			fes = append(fes, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be an absolute path"))
		}
		if mounts[m.MountPath] {
			fes = append(fes, field.Duplicate(mp.Child("mountPath"), m.MountPath))
		}
		mounts[m.MountPath] = true
	}
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
	}{{"readinessProbe", c.ReadinessProbe}, {"livenessProbe", c.LivenessProbe}, {"startupProbe", c.StartupProbe}} {
		if pr.probe != nil {
			fes = append(fes, checkProbe(pr.probe, ports, cp.Child(pr.name))...)
		}
	}
	return fes
}

func checkProbe(pr *corev1.Probe, ports map[string]bool, p *field.Path) field.ErrorList {
	var fes field.ErrorList
	var port *intstr.IntOrString
	handlers := 0
	if h := pr.HTTPGet; h != nil {
		handlers++
		port = &h.Port
		if !strings.HasPrefix(h.Path, "/") {
			fes = append(fes, field.Invalid(p.Child("httpGet", "path"), h.Path, "must be an absolute path"))
		}
	}
	if s := pr.TCPSocket; s != nil {
		handlers++
		port = &s.Port
	}
	if pr.Exec != nil {
		handlers++
	}
	if pr.GRPC != nil {
		handlers++
	}
	if handlers != 1 {
		fes = append(fes, field.Invalid(p, "", "want exactly one handler (httpGet, tcpSocket, exec, grpc)"))
	}
	if port != nil {
		switch {
		case port.Type == intstr.String && !ports[port.StrVal]:
			fes = append(fes, field.NotFound(p.Child("port"), port.StrVal))
		case port.Type == intstr.Int:
			fes = append(fes, strs(p.Child("port"), port.IntVal, validation.IsValidPortNum(int(port.IntVal)))...)
		}
	}
	for _, f := range []struct {
		name string
		v    int32
	}{{"periodSeconds", pr.PeriodSeconds}, {"failureThreshold", pr.FailureThreshold}, {"timeoutSeconds", pr.TimeoutSeconds}} {
		if f.v < 0 {
			fes = append(fes, field.Invalid(p.Child(f.name), f.v, "must be at least 0"))
		}
	}
	return fes
}

// fieldPaths are the downward API's fields an environment variable may read (the API server's list,
// less those the manifests would never use).
var fieldPaths = []string{"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
	"spec.serviceAccountName", "status.hostIP", "status.podIP", "status.podIPs"}

var labelPath = regexp.MustCompile(`^metadata\.(labels|annotations)\['([^']+)'\]$`)

func checkFieldPath(fp string, p *field.Path) field.ErrorList {
	for _, ok := range fieldPaths {
		if fp == ok {
			return nil
		}
	}
	if m := labelPath.FindStringSubmatch(fp); m != nil {
		return strs(p, fp, validation.IsQualifiedName(m[2]))
	}
	return field.ErrorList{field.NotSupported(p, fp, fieldPaths)}
}

// ref requires the named ConfigMap or Secret (and key) to be in the stream, unless optional.
func (ix index) ref(objs map[string]map[string]bool, kind, name, key string, optional *bool, p *field.Path) field.ErrorList {
	if optional != nil && *optional {
		return nil
	}
	ks, ok := objs[name]
	switch {
	case name == "":
		return field.ErrorList{field.Required(p.Child("name"), kind+" name")}
	case !ok:
		return field.ErrorList{field.NotFound(p, fmt.Sprintf("%s %s (not in these manifests)", kind, name))}
	case key != "" && !ks[key]:
		return field.ErrorList{field.NotFound(p.Child("key"), fmt.Sprintf("%s in %s %s", key, kind, name))}
	}
	return nil
}
