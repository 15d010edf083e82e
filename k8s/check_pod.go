package k8s

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

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
	if t.spec.EnableServiceLinks == nil || *t.spec.EnableServiceLinks {
		for v := range ix.serviceVars {
			declared[v] = true
		}
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
