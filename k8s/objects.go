package k8s

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chaosbench/chaosbench/target/arch"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// runLabels are every object's: part of chaosbench, this run, and the component ("" for the namespace).
func runLabels(cfg Config, component string) map[string]string {
	l := map[string]string{labelPartOf: "chaosbench", LabelRun: cfg.RunID}
	if component != "" {
		l[labelComponent] = component
	}
	return l
}

func meta(cfg Config, name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: cfg.Namespace, Labels: runLabels(cfg, component)}
}

func namespace(cfg Config) *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: cfg.Namespace, Labels: runLabels(cfg, "")},
	}
}

// scenarioConfigMap ships the scenario file to the workers, so that they run what was rendered.
func scenarioConfigMap(cfg Config) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta(cfg, nameScenario, "loader"),
		Data:       map[string]string{scenarioKey: string(cfg.Scenario.File)},
	}
}

type stack struct {
	objects []runtime.Object
	url     string
}

// bundledStack is the reference stack without NGINX: Redis, the API nodes and a Service in front of them
// (which spreads connections: see checkBundled for the balancers it cannot be).
func bundledStack(plan scenarios.Plan, a arch.Arch, cfg Config) stack {
	port := int32(a.Service.ListenPort())
	redisSvc := service(cfg, nameRedis, "redis", "redis", arch.RedisPort)
	redis := deployment(cfg, nameRedis, "redis", 1, corev1.Container{
		Name:    "redis",
		Image:   cfg.Images.Base,
		Command: a.RedisServerArgs(plan.Redis),
		Ports:   []corev1.ContainerPort{{Name: "redis", ContainerPort: arch.RedisPort}},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("redis")}},
			PeriodSeconds: 2,
		},
	})
	// One Redis at a time: a rolling update would start a second, empty one behind the same Service.
	redis.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}

	api := corev1.Container{
		Name:  "api",
		Image: cfg.Images.Refapi,
		Env:   nodeEnv(plan, a, cfg),
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: port}},
		// Readiness only, on the service's health path: a liveness probe would restart a node that is
		// slow under load or under a fault, which is what the run measures, not something to repair.
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: a.Service.HealthPath(), Port: intstr.FromString("http")}},
			PeriodSeconds:    1,
			FailureThreshold: 2,
		},
	}
	if a.Service.Custom() {
		api.Image = a.Service.Image
	} else {
		api.Ports = append(api.Ports, corev1.ContainerPort{Name: "admin", ContainerPort: arch.AdminPort})
	}
	objs := []runtime.Object{}
	if !a.Service.Custom() {
		objs = append(objs, &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: meta(cfg, nameSecret, "api"),
			Type:       corev1.SecretTypeOpaque,
			StringData: map[string]string{jwtSecretKey: cfg.JWTSecret},
		})
	}
	objs = append(objs, redis, redisSvc,
		deployment(cfg, nameAPI, "api", int32(plan.Replicas), api),
		service(cfg, nameAPI, "api", "http", port))
	// The Service's address as the kubelet gives it to every container of the namespace (its variables
	// exist once the Service does, before the Job): no cluster DNS needed, which a cluster may not run.
	return stack{objects: objs, url: fmt.Sprintf("http://$(%s_SERVICE_HOST):%d", ServiceEnvPrefix(nameAPI), port)}
}

// nodeEnv is the API node's environment as the Docker stack sets it (arch.NodeEnv), except what a pod
// learns from the cluster: its name as NODE_ID, the JWT secret from the Secret.
func nodeEnv(plan scenarios.Plan, a arch.Arch, cfg Config) []corev1.EnvVar {
	// Redis's Service address from the variables the kubelet sets (it expands $(VAR) in values too), as
	// for the workers' target: no cluster DNS needed. The Service is applied before this Deployment.
	env := a.NodeEnv("", fmt.Sprintf("redis://$(%s_SERVICE_HOST):%d/0", ServiceEnvPrefix(nameRedis), arch.RedisPort), "")
	if !a.Service.Custom() {
		// As the runner sets them for the Docker stack: the reference API reads them, a user's image not.
		if plan.SessionTTL > 0 {
			env["SESSION_TTL"] = plan.SessionTTL.String()
		}
		if plan.TokenLeeway != nil {
			env["TOKEN_LEEWAY"] = plan.TokenLeeway.String()
		}
	}
	var out []corev1.EnvVar
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v := corev1.EnvVar{Name: k, Value: env[k]}
		switch k {
		case "NODE_ID":
			v.Value, v.ValueFrom = "", &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}
		case "JWT_SECRET":
			v.Value, v.ValueFrom = "", &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: nameSecret}, Key: jwtSecretKey}}
		}
		out = append(out, v)
	}
	return out
}

func deployment(cfg Config, name, component string, replicas int32, c corev1.Container) *appsv1.Deployment {
	sel := selector(cfg, component)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(cfg, name, component),
		Spec: appsv1.DeploymentSpec{
			Replicas: new(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: runLabels(cfg, component)},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{c}},
			},
		},
	}
}

// selector picks a component's pods of this run.
func selector(cfg Config, component string) map[string]string {
	return map[string]string{LabelRun: cfg.RunID, labelComponent: component}
}

// service puts the component's pods of this run behind name, port to their container port portName.
func service(cfg Config, name, component, portName string, port int32) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(cfg, name, component),
		Spec: corev1.ServiceSpec{
			Selector: selector(cfg, component),
			Ports:    []corev1.ServicePort{{Name: portName, Port: port, TargetPort: intstr.FromString(portName)}},
		},
	}
}

// loaderJob is the loaders: an Indexed Job of cfg.Workers pods, each running segment
// $(JOB_COMPLETION_INDEX) of the load from cfg.Start, and an outbox that keeps its files.
func loaderJob(plan scenarios.Plan, cfg Config, target string) *batchv1.Job {
	n := int32(cfg.Workers)
	scenarioArg := cfg.Scenario.Name
	if cfg.Scenario.File != nil {
		scenarioArg = scenarioDir + "/" + scenarioKey
	}
	// The Job controller gives every container of an Indexed Job's pod JOB_COMPLETION_INDEX (from the
	// pod's completion-index annotation) unless it declares it, and the kubelet expands $(VAR) in args
	// from the container's environment: each pod runs its own segment of one template.
	start := cfg.Start.Format(time.RFC3339Nano)
	if cfg.Gate != "" {
		start = cfg.Gate
	}
	// --in-cluster: the worker's locality rule, inside a pod only, allows the pod's own network and its
	// namespace's Services (internal/local.PodNetworks), and nothing off the cluster.
	args := []string{"worker", scenarioArg,
		fmt.Sprintf("--segment=$(JOB_COMPLETION_INDEX)/%d", n),
		"--target=" + target,
		"--start=" + start,
		"--seed=" + strconv.FormatInt(cfg.Seed, 10),
		"--out=" + outDir,
		"--arch=" + cfg.Arch,
		"--in-cluster",
	}
	if cfg.Clock != "" {
		args = append(args, "--clock="+cfg.Clock)
	}
	if cfg.WorkerRunID != "" {
		args = append(args, "--run-id="+cfg.WorkerRunID)
	}
	if cfg.Scale > 0 && cfg.Scale != 1 {
		args = append(args, "--scale="+strconv.FormatFloat(cfg.Scale, 'g', -1, 64))
	}
	worker := corev1.Container{
		Name:         "worker",
		Image:        cfg.Images.Loader,
		Args:         args, // the loader's entrypoint is chaosbench itself (deploy/images/build.sh)
		VolumeMounts: []corev1.VolumeMount{{Name: "out", MountPath: outDir}},
	}
	volumes := []corev1.Volume{{Name: "out", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	if cfg.Scenario.File != nil {
		worker.VolumeMounts = append(worker.VolumeMounts, corev1.VolumeMount{Name: "scenario", MountPath: scenarioDir, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: "scenario", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: nameScenario}}}})
	}
	load := loadDuration(plan, cfg.Scale)
	collectBy := cfg.Start.Add(load).Add(cfg.CollectWindow)
	// The outbox outlives the worker so that an exec in it (the coordinator's tar, or kubectl cp) can read the emptyDir (a finished
	// pod's files cannot be copied); it leaves when the coordinator says it has them, or at collectBy.
	// $$ is a literal $ to the kubelet, which would otherwise read $(date +%s) as a variable reference.
	outbox := corev1.Container{
		Name:         "outbox",
		Image:        cfg.Images.Base,
		Command:      []string{"sh", "-c", `while [ ! -e ` + outDir + `/` + CollectedFile + ` ] && [ "$$(date +%s)" -lt "$COLLECT_BY" ]; do sleep 2; done`},
		Env:          []corev1.EnvVar{{Name: "COLLECT_BY", Value: strconv.FormatInt(collectBy.Unix(), 10)}},
		VolumeMounts: []corev1.VolumeMount{{Name: "out", MountPath: outDir}},
	}
	// The Job's hard bound: from about when it is applied to the end of the collect window, and a minute.
	deadline := seconds(cfg.Start.Sub(cfg.RenderedAt) + load + cfg.CollectWindow + time.Minute)
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: meta(cfg, nameLoader, "loader"),
		Spec: batchv1.JobSpec{
			CompletionMode: new(batchv1.IndexedCompletion),
			Completions:    new(n),
			Parallelism:    new(n),
			// A segment retried later would start after the shared start and send another segment's
			// requests out of time: a failed worker fails its index, and the others run on (a whole-Job
			// backoffLimit would kill their pods, outboxes and files with them).
			BackoffLimitPerIndex:  new(int32(0)),
			ActiveDeadlineSeconds: new(deadline),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: runLabels(cfg, "loader")},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{worker, outbox},
					Volumes:       volumes,
					// Loaders on different nodes, where there are enough: the point of several workers is
					// more CPU and NICs than one machine's.
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
							Weight: 100,
							PodAffinityTerm: corev1.PodAffinityTerm{
								TopologyKey:   "kubernetes.io/hostname",
								LabelSelector: &metav1.LabelSelector{MatchLabels: selector(cfg, "loader")},
							},
						}},
					}},
				},
			},
		},
	}
}
