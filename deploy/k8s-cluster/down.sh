#!/usr/bin/env bash
# make k8s-cluster-down: stops every process make k8s-cluster started (by its pid file), removes the pods and
# containers of the cluster's own containerd, the CNI bridge, the iptables chains of kube-proxy (KUBE-*) and
# of the CNI plugins (CNI-*), the kubelet's cgroups and mounts, and the cluster's state (etcd's data: the next
# cluster starts empty). Kept: the binaries, the certificates and containerd's images, so the next
# `make k8s-cluster` is fast. Docker, its containerd and its iptables rules are left alone. Safe to run twice.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || die "needs root"
claim

# stop NAME sends SIGTERM to the process of NAME's pid file, waits up to 20 s, then SIGKILL.
stop() {
  local name=$1 pid
  pid=$(cat "$PIDS/$name.pid" 2>/dev/null) || return 0
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "stopping $name ($pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDS/$name.pid"
}

# The kubelet first, so that it does not restart what is being removed.
stop kube-proxy
stop kubelet
# Pods go through the CRI while containerd still runs: that is where the CNI teardown happens.
if running containerd && [ -x "$BIN/crisweep" ]; then
  "$BIN/crisweep" "unix://$SOCK" >&2 || log "crisweep failed; removing what is left with ctr"
  for c in $(ctr_ containers ls -q 2>/dev/null); do
    ctr_ tasks kill -s KILL "$c" >/dev/null 2>&1 || true
    sleep 0.2
    ctr_ tasks rm -f "$c" >/dev/null 2>&1 || true
    ctr_ containers rm "$c" >/dev/null 2>&1 || true
  done
fi
stop kube-scheduler
stop kube-controller-manager
stop kube-apiserver
stop etcd
stop containerd

# kube-proxy's own cleanup of its iptables, ipvs and nftables rules, then a sweep of what remains of
# KUBE-* and CNI-* (rules in built-in chains that jump to them first, then the chains). Docker's chains
# (DOCKER*) are never touched.
[ -x "$BIN/kube-proxy" ] && "$BIN/kube-proxy" --cleanup >>"$LOGS/kube-proxy-cleanup.log" 2>&1 || true
for table in filter nat mangle raw; do
  iptables-save -t "$table" 2>/dev/null | grep -E '^-A [^ ]+ .*-j (KUBE|CNI)-' | grep -vE '^-A (KUBE|CNI)-' |
    while read -r line; do
      eval "iptables -t $table -D ${line#-A }" 2>/dev/null || true
    done || true
  for chain in $(iptables-save -t "$table" 2>/dev/null | sed -n 's/^:\(\(KUBE\|CNI\)-[^ ]*\) .*/\1/p'); do
    iptables -t "$table" -F "$chain" 2>/dev/null || true
  done
  for chain in $(iptables-save -t "$table" 2>/dev/null | sed -n 's/^:\(\(KUBE\|CNI\)-[^ ]*\) .*/\1/p'); do
    iptables -t "$table" -X "$chain" 2>/dev/null || true
  done
done

ip link show "$BRIDGE" >/dev/null 2>&1 && ip link del "$BRIDGE" || true
# Pod volumes (secrets, service-account tokens) the kubelet mounted, and containerd's leftovers.
for m in $(awk -v d="$DIR/kubelet" -v r="$RUN" 'index($2, d) == 1 || index($2, r) == 1 {print $2}' /proc/self/mounts | sort -r); do
  umount -l "$m" 2>/dev/null || true
done
# The kubelet's cgroups (cgroupfs driver: kubepods under every v1 hierarchy), deepest first.
for h in /sys/fs/cgroup/*/; do
  [ -d "$h/kubepods" ] && find "$h/kubepods" -depth -type d -exec rmdir {} + 2>/dev/null || true
done
rm -rf "$DIR/etcd" "$DIR/kubelet" "$DIR/cni/networks" "$RUN/containerd" "$RUN/runc" "$PIDS"
rm -f "$SOCK" "$RUN/containerd.ttrpc.sock" "$RUN/containerd.debug.sock"
log "down"
