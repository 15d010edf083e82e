package k8s

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckGolden: every golden rendering passes the offline check (and the check saw every object).
func TestCheckGolden(t *testing.T) {
	for _, name := range []string{"kill-node-bundled", "file-external", "naiveshop-image"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/" + name + ".yaml")
			require.NoError(t, err)
			require.Empty(t, Check(raw))
			n := 0
			for _, p := range splitDocuments(raw) {
				d, err := decode(p.line, p.raw)
				require.NoError(t, err)
				if d.obj != nil {
					n++
				}
			}
			require.Equal(t, strings.Count(string(raw), "\n---\n"), n, "every document decoded into a type")
		})
	}
}

// TestCheckCatches shows that the check can fail: each row breaks the bundled rendering in one place, as
// a hand edit or a renderer bug would, and the check must name it.
func TestCheckCatches(t *testing.T) {
	good, err := os.ReadFile("testdata/kill-node-bundled.yaml")
	require.NoError(t, err)
	tests := []struct {
		name, old, new string
		want           string // in the error
	}{
		// a misspelt field: refused by the strict decode (the API server's strict field validation does too)
		{"misspelt field", "        imagePullPolicy", "        imagePullPolicyy", ""},
		{"misspelt field in the Job", "  completionMode: Indexed", "  completionMod: Indexed", `unknown field "spec.completionMod"`},
		// a value of the wrong type
		{"string for an int", "  replicas: 3", "  replicas: three", "replicas"},
		// a duplicate key, which plain YAML decoders let the last one win
		{"duplicate key", "  parallelism: 3\n", "  parallelism: 3\n  parallelism: 4\n", "parallelism"},
		// names the API server refuses
		{"uppercase name", "  name: refapi\n  namespace", "  name: Refapi\n  namespace", "metadata.name"},
		{"bad label value", "chaosbench.run: kill-node-20261123-180000\n  name: loader", "chaosbench.run: kill node\n  name: loader", "metadata.labels"},
		{"env var name", "- name: LOG_LEVEL", "- name: LOG-LEVEL=", "env[7].name"},
		// a Deployment whose selector does not select its own pods
		{"selector", "      app.kubernetes.io/component: api\n      chaosbench.run", "      app.kubernetes.io/component: apj\n      chaosbench.run", "spec.selector"},
		// references that would resolve to nothing in the cluster
		{"targetPort", "    targetPort: http", "    targetPort: htp", "spec.ports[0].targetPort"},
		{"probe port", "            port: http", "            port: web", "readinessProbe.port"},
		{"secret key", "              key: jwt-secret", "              key: jwt", "secretKeyRef.key"},
		{"volume mount", "        - mountPath: /out\n          name: out\n      - command", "        - mountPath: /out\n          name: output\n      - command", "volumeMounts[0].name"},
		{"$(VAR) typo", "$(JOB_COMPLETION_INDEX)", "$(JOB_INDEX)", "$(JOB_INDEX) is not in the container's environment"},
		{"service variable of no service", "--target=http://$(API_SERVICE_HOST)", "--target=http://$(APP_SERVICE_HOST)", "$(APP_SERVICE_HOST) is not in the container's environment"},
		// Job rules
		{"restart policy", "      restartPolicy: Never", "      restartPolicy: Always", "restartPolicy"},
		{"indexed without completions", "  completions: 3\n", "", "spec.completions"},
		// a kind the check does not know is refused, not skipped
		{"unknown kind", "kind: Namespace", "kind: Namespaces", "is not a kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := tt.old
			if tt.name == "misspelt field" {
				// the bundled rendering sets no imagePullPolicy: add one, misspelt
				old, tt.new = "        name: worker\n", "        name: worker\n        imagePullPolicyy: IfNotPresent\n"
				tt.want = `unknown field "spec.template.spec.containers[0].imagePullPolicyy"`
			}
			require.Equal(t, 1, strings.Count(string(good), old), "the row's text must occur once: %q", old)
			bad := strings.Replace(string(good), old, tt.new, 1)
			errs := Check([]byte(bad))
			require.NotEmpty(t, errs, "the check passed a broken manifest")
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			require.Contains(t, strings.Join(msgs, "\n"), tt.want)
			require.Regexp(t, `^line \d+: `, msgs[0], "errors say where")
			t.Log(strings.Join(msgs, "\n"))
		})
	}
}
