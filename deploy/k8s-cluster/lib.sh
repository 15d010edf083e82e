# Shared settings of up.sh, down.sh and images.sh (sourced, not run). See docs/kubernetes.md, "A cluster on
# this machine". Everything the cluster writes lives under $DIR (gitignored) except the sockets and
# containerd's state, which live under $RUN (a socket path must stay under 108 bytes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
SRC=$ROOT/deploy/k8s-cluster
DIR=${CHAOSBENCH_K8S_DIR:-$ROOT/build/k8s-cluster}
RUN=/run/chaosbench-k8s
BIN=$DIR/bin
LOGS=$DIR/logs
PIDS=$RUN/pids
PKI=$DIR/pki
SOCK=$RUN/containerd.sock
GO=${GO:-go}

# The release every Kubernetes binary is built from, as deploy/k8s-cluster/go.mod pins it.
K8S_VERSION=$(sed -n "s/^\tk8s.io\/kubernetes \(v[^ ]*\).*/\1/p" "$SRC/go.mod")
NODE=chaosbench-node
# Pod and service ranges: away from Docker's default pools (172.17-31.x, 192.168.x).
CLUSTER_CIDR=10.244.0.0/16
POD_CIDR=10.244.0.0/24
POD_GATEWAY=10.244.0.1
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
BRIDGE=cbk8s0
API_PORT=6443
ETCD_CLIENT=127.0.0.1:12379
ETCD_PEER=127.0.0.1:12380
KUBECONFIG_ADMIN=$DIR/admin.kubeconfig
PAUSE_IMAGE=docker.io/chaosbench/pause:3.10.2
COREDNS_IMAGE=docker.io/chaosbench/coredns:v1.15.0
# The images `make images` builds (deploy/images/build.sh), imported by images.sh.
CHAOSBENCH_IMAGES="${CHAOSBENCH_BASE_IMAGE:-chaosbench/base:bookworm} ${CHAOSBENCH_REFAPI_IMAGE:-chaosbench/refapi:dev} ${CHAOSBENCH_LOADER_IMAGE:-chaosbench/loader:dev} ${CHAOSBENCH_NAIVESHOP_IMAGE:-chaosbench/naiveshop:dev}"

log() { echo "k8s-cluster: $*" >&2; }
die() { echo "k8s-cluster: $*" >&2; exit 1; }

# host_ip prints the address of the interface that holds the default route: the API server advertises it
# (the kubernetes Service's endpoint), and pods reach the host there as well as at $POD_GATEWAY.
host_ip() {
  local ip
  ip=$(ip -4 route get 1.2.3.4 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -1)
  [ -n "$ip" ] || ip=$(ip -4 -o addr show scope global | awk '{sub("/.*","",$4); print $4; exit}')
  [ -n "$ip" ] || die "no global IPv4 address on this machine: the API server needs one to advertise"
  echo "$ip"
}

ctr_() { ctr -a "$SOCK" -n k8s.io "$@"; }
kubectl_() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# running NAME succeeds when the pid file of NAME names a live process.
running() {
  local pid
  pid=$(cat "$PIDS/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# claim refuses to act on a cluster that another checkout (another $DIR) started: the pid files and sockets
# under $RUN are machine-wide, its certificates and kubeconfig are not. Otherwise it records $DIR as the owner.
claim() {
  local owner
  owner=$(cat "$RUN/owner" 2>/dev/null || true)
  if [ -n "$owner" ] && [ "$owner" != "$DIR" ] && ls "$PIDS"/*.pid >/dev/null 2>&1; then
    for p in "$PIDS"/*.pid; do
      running "$(basename "$p" .pid)" &&
        die "a cluster started from $owner is running on this machine (kubeconfig: $owner/admin.kubeconfig); use it, or run make k8s-cluster-down in that checkout first"
    done
  fi
  mkdir -p "$RUN"
  echo "$DIR" >"$RUN/owner"
}
