package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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
	// serviceVars are the variables the kubelet gives every container of a pod for each Service of its
	// namespace (NAME_SERVICE_HOST, NAME_SERVICE_PORT; enableServiceLinks, on by default).
	serviceVars map[string]bool
}

func indexOf(docs []document) index {
	ix := index{namespaces: map[string]bool{}, configMaps: map[string]map[string]bool{}, secrets: map[string]map[string]bool{},
		serviceVars: map[string]bool{}}
	for _, d := range docs {
		switch o := d.obj.(type) {
		case *corev1.Namespace:
			ix.namespaces[o.Name] = true
		case *corev1.ConfigMap:
			ix.configMaps[o.Name] = keys(o.Data, o.BinaryData)
		case *corev1.Secret:
			ix.secrets[o.Name] = keys(o.StringData, o.Data)
		case *corev1.Service:
			name := ServiceEnvPrefix(o.Name)
			ix.serviceVars[name+"_SERVICE_HOST"], ix.serviceVars[name+"_SERVICE_PORT"] = true, true
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

// ServiceEnvPrefix is how the kubelet names a Service's variables: api-2 gives API_2_SERVICE_HOST.
func ServiceEnvPrefix(service string) string {
	return strings.ToUpper(strings.ReplaceAll(service, "-", "_"))
}
