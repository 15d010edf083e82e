// Package apiserver runs the Kubernetes API server's own create path on the manifests that
// `chaosbench k8s render` writes (k8s/testdata, which TestGolden keeps equal to the renderer's output):
// a strict decode, defaulting, conversion to the internal types, and rest.BeforeCreate with each kind's
// registry strategy (PrepareForCreate, then the validation in k8s.io/kubernetes/pkg/apis/*/validation,
// declarative validation included), as a create request to kube-apiserver does before storage.
//
// It is a module of its own because it imports k8s.io/kubernetes (several hundred packages, about five
// minutes to build the first time on two cores): chaosbench itself does not depend on it. Run it with
//
//	cd k8s/apiserver && go test ./...
//
// What it leaves out: admission (Pod Security, quotas, LimitRanges, webhooks), storage, and a real cluster's
// feature gates (the defaults of this version are used).
package apiserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	_ "k8s.io/kubernetes/pkg/apis/batch/install"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	"k8s.io/kubernetes/pkg/registry/apps/deployment"
	"k8s.io/kubernetes/pkg/registry/batch/job"
	"k8s.io/kubernetes/pkg/registry/core/configmap"
	"k8s.io/kubernetes/pkg/registry/core/namespace"
	"k8s.io/kubernetes/pkg/registry/core/secret"
	"k8s.io/kubernetes/pkg/registry/core/service"
)

// kinds are the kinds the renderer writes: each one's registry strategy and its resource name.
var kinds = map[string]struct {
	strategy rest.RESTCreateStrategy
	resource string
}{
	"Namespace": {namespace.Strategy, "namespaces"}, "ConfigMap": {configmap.Strategy, "configmaps"},
	"Secret": {secret.Strategy, "secrets"}, "Service": {service.Strategy, "services"},
	"Deployment": {deployment.Strategy, "deployments"}, "Job": {job.Strategy, "jobs"},
}

// strict decodes as kube-apiserver does with fieldValidation=Strict: unknown and duplicate fields are errors.
var strict = serializer.NewCodecFactory(legacyscheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// TestGoldenManifests: every object of every golden rendering passes the API server's create path.
func TestGoldenManifests(t *testing.T) {
	paths, err := filepath.Glob("../testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range paths {
		if filepath.Base(path) == "shop.yaml" {
			continue // a scenario, not manifests
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range create(t, raw) {
			t.Errorf("%s: %v", path, err)
		}
		n++
	}
	if n < 2 {
		t.Fatalf("found %d golden renderings in ../testdata, want at least 2", n)
	}
}

// TestRefused shows that this check can fail: each row breaks the bundled rendering in one place and the
// API server's create path must refuse it. The last rows are ones that k8s.Check does not look at.
func TestRefused(t *testing.T) {
	good, err := os.ReadFile("../testdata/kill-node-bundled.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, old, new, want string }{
		// refused by the strict decode
		{"misspelt field", "  completionMode: Indexed", "  completionMod: Indexed", `unknown field "spec.completionMod"`},
		// refused by the Job's validation
		{"restart policy", "      restartPolicy: Never", "      restartPolicy: Always", "spec.template.spec.restartPolicy"},
		// refused by the Deployment's validation
		{"selector", "      app.kubernetes.io/component: api\n      chaosbench.run", "      app.kubernetes.io/component: apj\n      chaosbench.run", "does not match template"},
		{"name", "  name: refapi\n  namespace", "  name: Refapi\n  namespace", "metadata.name"},
		// only the API server's validation catches these two
		{"pull policy", "        name: worker\n", "        name: worker\n        imagePullPolicy: Sometimes\n", "imagePullPolicy"},
		{"port protocol", "        - containerPort: 6379\n", "        - containerPort: 6379\n          protocol: HTTP\n", "protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Count(string(good), tt.old) != 1 {
				t.Fatalf("the row's text must occur once: %q", tt.old)
			}
			errs := create(t, []byte(strings.Replace(string(good), tt.old, tt.new, 1)))
			if len(errs) == 0 {
				t.Fatal("the API server's create path passed a broken manifest")
			}
			if msg := errors.Join(errs...).Error(); !strings.Contains(msg, tt.want) {
				t.Fatalf("want %q in:\n%s", tt.want, msg)
			} else {
				t.Log(msg)
			}
		})
	}
}

// create runs every document of a stream through the create path and returns what was refused.
func create(t *testing.T, stream []byte) []error {
	t.Helper()
	var errs []error
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return errs
		}
		if err != nil {
			return append(errs, err)
		}
		if err := createOne(doc); err != nil {
			errs = append(errs, err)
		}
	}
}

func createOne(doc []byte) error {
	js, err := utilyaml.ToJSON(doc)
	if err != nil {
		return err
	}
	if s := string(bytes.TrimSpace(js)); s == "null" || s == "" {
		return nil // comments only
	}
	obj, gvk, err := strict.Decode(js, nil, nil)
	if err != nil {
		return err
	}
	k, ok := kinds[gvk.Kind]
	if !ok {
		return errors.New(gvk.String() + ": not a kind the renderer writes")
	}
	legacyscheme.Scheme.Default(obj)
	internal, err := legacyscheme.Scheme.ConvertToVersion(obj, schema.GroupVersion{Group: gvk.Group, Version: runtime.APIVersionInternal})
	if err != nil {
		return err
	}
	m := internal.(metav1.Object)
	// What the create handler sets before the strategy runs: the request, a UID and a creation time.
	ctx := genericapirequest.WithNamespace(context.Background(), m.GetNamespace())
	ctx = genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{IsResourceRequest: true, Verb: "create",
		APIGroup: gvk.Group, APIVersion: gvk.Version, Resource: k.resource, Namespace: m.GetNamespace(), Name: m.GetName()})
	rest.FillObjectMetaSystemFields(m)
	return rest.BeforeCreate(k.strategy, ctx, internal)
}
