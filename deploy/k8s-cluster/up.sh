#!/usr/bin/env bash
# make k8s-cluster: a single-node Kubernetes from upstream components, offline (docs/kubernetes.md, "A cluster
# on this machine"). Returns when the node is Ready, CoreDNS answers and a smoke Job has completed; safe to
# re-run (running parts are left alone, built binaries and imported images are reused).
source "$(dirname "$0")/lib.sh"
t0=$(date +%s)
[ "$(id -u)" = 0 ] || die "needs root (containerd, the kubelet and kube-proxy manage cgroups, mounts and iptables)"
for cmd in containerd containerd-shim-runc-v2 runc ctr iptables openssl gcc docker; do
  command -v "$cmd" >/dev/null || die "$cmd is not installed (apt-get install containerd runc iptables openssl gcc docker.io)"
done
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/firewall ] ||
  die "CNI plugins are missing in /usr/lib/cni (apt-get install containernetworking-plugins)"
claim
HOST_IP=$(host_ip)
mkdir -p "$BIN" "$LOGS" "$PIDS" "$DIR/etc" "$DIR/cni/net.d" "$DIR/cni/networks"

# --- binaries: one release, built once ---------------------------------------------------------------
# The version variables are what Kubernetes' own build sets with -X (hack/lib/version.sh); without them every
# component reports v0.0.0-master+$Format:%H$, which kubectl and version checks cannot parse.
V=k8s.io/component-base/version CV=k8s.io/client-go/pkg/version
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in $V $CV; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
# The stamp is the hash of go.mod, go.sum and the flags: a second run builds nothing. The new binaries are
# built beside the old ones and renamed over them, which works while they run.
stamp=$(cat "$SRC/go.mod" "$SRC/go.sum" <(echo "$ldflags") | sha256sum | cut -c1-16)
if [ "$(cat "$BIN/.stamp" 2>/dev/null)" != "$stamp" ]; then
  log "building etcd and Kubernetes $K8S_VERSION from the Go module proxy (25 minutes of CPU, once)"
  rm -rf "$BIN.new" && mkdir -p "$BIN.new"
  (cd "$SRC" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags="$ldflags" -o "$BIN.new/" go.etcd.io/etcd/server/v3 \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy \
    k8s.io/kubernetes/cmd/kubectl ./crisweep) >"$LOGS/build.log" 2>&1 || die "build failed, see $LOGS/build.log"
  mv "$BIN.new/server" "$BIN.new/etcd"
  for f in "$BIN.new"/*; do mv -f "$f" "$BIN/"; done
  rmdir "$BIN.new"
  echo "$stamp" >"$BIN/.stamp"
fi

bash "$SRC/certs.sh"

# write FILE writes its standard input to FILE only when the content differs: kube-proxy exits as soon as
# its configuration file is written to ("content of the proxy server's configuration file was updated"),
# even with the same content, and a re-run must not stop it.
write() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}

# start NAME CMD... runs CMD in the background (its own session, so that Ctrl-C of make leaves it alone)
# with its log in $LOGS/NAME.log and its pid in $PIDS/NAME.pid, unless it is already running.
start() {
  local name=$1; shift
  if running "$name"; then return; fi
  log "starting $name"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}
# wait_for WHAT SECONDS CMD... retries CMD every half second.
wait_for() {
  local what=$1 secs=$2; shift 2
  local end=$(($(date +%s) + secs))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timed out after ${secs}s waiting for $what (logs in $LOGS)"
    sleep 0.5
  done
}

# --- containerd: our own instance, apart from Docker's -------------------------------------------------
# Its own root, state, socket and runc root: the Docker daemon's containerd (/run/docker/containerd) is
# never touched. SystemdCgroup=false: the cgroupfs driver, as the kubelet's (PID 1 is not systemd).
# restrict_oom_score_adj: CAP_SYS_RESOURCE is missing from every process's bounding set on this machine (PID 1
# included), so nothing may lower its oom_score_adj; the CRI's -998 for the pause container made runc fail
# ("nsexec: failed to update /proc/self/oom_score_adj: Permission denied"). Restricted, containers get no
# less than containerd's own score.
write "$DIR/etc/containerd.toml" <<CFG
version = 2
root = "$DIR/containerd"
state = "$RUN/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$RUN/containerd.ttrpc.sock"
[debug]
  address = "$RUN/containerd.debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$RUN/runc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$DIR/containerd-opt"
CFG

# One bridge for the node's pods. firewall: Docker sets FORWARD's policy to DROP, and the firewall plugin
# accepts the pods' traffic in its own CNI-FORWARD chain. The bridge plugin does not enforce NetworkPolicy.
write "$DIR/cni/net.d/10-chaosbench.conflist" <<CNI
{
  "cniVersion": "1.0.0",
  "name": "chaosbench",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$DIR/cni/networks",
              "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "firewall"}
  ]
}
CNI
start containerd containerd --config "$DIR/etc/containerd.toml"
wait_for "containerd's socket" 30 ctr -a "$SOCK" version
bash "$SRC/images.sh"

# --- etcd and the control plane ----------------------------------------------------------------------
start etcd "$BIN/etcd" --name chaosbench --data-dir "$DIR/etcd" \
  --listen-client-urls "http://$ETCD_CLIENT" --advertise-client-urls "http://$ETCD_CLIENT" \
  --listen-peer-urls "http://$ETCD_PEER" --initial-advertise-peer-urls "http://$ETCD_PEER" \
  --initial-cluster "chaosbench=http://$ETCD_PEER" --listen-metrics-urls "" --log-level warn
start kube-apiserver "$BIN/kube-apiserver" --etcd-servers "http://$ETCD_CLIENT" \
  --bind-address 0.0.0.0 --secure-port "$API_PORT" --advertise-address "$HOST_IP" \
  --service-cluster-ip-range "$SERVICE_CIDR" --allow-privileged=true \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
  --client-ca-file "$PKI/ca.crt" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
  --kubelet-preferred-address-types InternalIP,Hostname \
  --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --api-audiences https://kubernetes.default.svc.cluster.local
wait_for "kube-apiserver /readyz" 120 kubectl_ get --raw /readyz
start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$PKI/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$PKI/controller-manager.kubeconfig" --authorization-kubeconfig "$PKI/controller-manager.kubeconfig" \
  --leader-elect=false --use-service-account-credentials \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --allocate-node-cidrs --cluster-cidr "$CLUSTER_CIDR" --node-cidr-mask-size 24 --service-cluster-ip-range "$SERVICE_CIDR"
start kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$PKI/scheduler.kubeconfig" \
  --authentication-kubeconfig "$PKI/scheduler.kubeconfig" --authorization-kubeconfig "$PKI/scheduler.kubeconfig" \
  --leader-elect=false

# --- the node ----------------------------------------------------------------------------------------
# failCgroupV1: false — this machine's hierarchy is cgroup v1, which the kubelet refuses by default since
# v1.35. cgroupDriver cgroupfs: no systemd. Image GC at 100%: imported images cannot be pulled back.
# oomScoreAdj 0 (kube-proxy's too): a negative score needs CAP_SYS_RESOURCE, which no process has here.
write "$DIR/etc/kubelet.yaml" <<CFG
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
address: 0.0.0.0
port: 10250
readOnlyPort: 0
healthzPort: 10248
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [$DNS_SERVICE_IP]
resolvConf: /etc/resolv.conf
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "200Mi", nodefs.available: "2%", imagefs.available: "2%"}
maxPods: 110
serializeImagePulls: false
CFG
start kubelet "$BIN/kubelet" --config "$DIR/etc/kubelet.yaml" --kubeconfig "$PKI/kubelet.kubeconfig" \
  --hostname-override "$NODE" --node-ip "$HOST_IP" --root-dir "$DIR/kubelet"
write "$DIR/etc/kube-proxy.yaml" <<CFG
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: $CLUSTER_CIDR
hostnameOverride: $NODE
clientConnection: {kubeconfig: $PKI/kube-proxy.kubeconfig}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
oomScoreAdj: 0
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
CFG
start kube-proxy "$BIN/kube-proxy" --config "$DIR/etc/kube-proxy.yaml"

node_ready() { [ "$(kubectl_ get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
wait_for "node $NODE Ready" 180 node_ready

# --- CoreDNS and the smoke test ----------------------------------------------------------------------
sed -e "s|@IMAGE@|$COREDNS_IMAGE|" -e "s|@DNS@|$DNS_SERVICE_IP|" "$SRC/coredns.yaml" | kubectl_ apply -f - >/dev/null
wait_for "CoreDNS available" 180 kubectl_ -n kube-system wait --for=condition=Available deployment/coredns --timeout=5s
kubectl_ -n default delete job chaosbench-smoke --ignore-not-found --wait >/dev/null
sed -e "s|@IMAGE@|${CHAOSBENCH_BASE_IMAGE:-chaosbench/base:bookworm}|" "$SRC/smoke-job.yaml" | kubectl_ apply -f - >/dev/null
if ! kubectl_ -n default wait --for=condition=Complete job/chaosbench-smoke --timeout=180s >/dev/null; then
  kubectl_ -n default logs job/chaosbench-smoke >&2 || true
  die "the smoke Job did not complete (DNS, Services or the runtime); see above and $LOGS"
fi
kubectl_ -n default logs job/chaosbench-smoke | sed 's/^/k8s-cluster: smoke: /' >&2
kubectl_ -n default delete job chaosbench-smoke --wait=false >/dev/null
log "ready in $(($(date +%s) - t0))s: Kubernetes $K8S_VERSION, node $NODE, pods $CLUSTER_CIDR, services $SERVICE_CIDR"
log "kubeconfig: $KUBECONFIG_ADMIN (export KUBECONFIG=$KUBECONFIG_ADMIN; kubectl: $BIN/kubectl)"
