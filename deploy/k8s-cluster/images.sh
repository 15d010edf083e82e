#!/usr/bin/env bash
# Puts every image the cluster needs into its containerd's k8s.io namespace; nothing is ever pulled.
#
#   - the pause image (the pod sandbox): Kubernetes' own build/pause/linux/pause.c, compiled with gcc -static;
#   - CoreDNS, built from github.com/coredns/coredns at the version deploy/k8s-cluster/coredns/go.mod pins;
#   - the images `make images` builds, plus K8S_EXTRA_IMAGES (space-separated Docker tags).
#
# Each is made in Docker with `docker import` (as deploy/images/build.sh does), then copied over with
# `docker save | ctr import`. An image whose Docker ID was already imported is skipped: re-running is cheap.
source "$(dirname "$0")/lib.sh"

[ -S "$SOCK" ] && running containerd || die "the cluster's containerd is not running ($SOCK): run make k8s-cluster"
docker info >/dev/null 2>&1 || die "cannot reach the Docker daemon: the images are copied from it"
mkdir -p "$DIR/images"

label() { docker image inspect -f '{{index .Config.Labels "chaosbench.inputs"}}' "$1" 2>/dev/null || true; }

# import_binary IMAGE DIR NAME HASH ENTRYPOINT... imports DIR (holding the static binary NAME) as IMAGE
# unless its chaosbench.inputs label is already HASH.
import_binary() {
  local image=$1 dir=$2 hash=$3 entry=$4
  if [ "$(label "$image")" = "$hash" ]; then return; fi
  log "docker import $image"
  mkdir -p "$dir/tmp" && chmod 1777 "$dir/tmp"
  tar -C "$dir" -c . | docker import --change "LABEL chaosbench.inputs=$hash" --change "ENTRYPOINT $entry" - "$image" >/dev/null
}

# --- pause -------------------------------------------------------------------------------------------
# have IMAGE DIR: the image is in Docker and this checkout never built it (another checkout did): use it as
# it is, rather than build it again.
have() { [ ! -d "$2" ] && docker image inspect "$1" >/dev/null 2>&1; }
pdir=$DIR/images/pause
if ! have "$PAUSE_IMAGE" "$pdir"; then
  if [ ! -x "$pdir/pause" ]; then
    pause_src=$("$GO" env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION/build/pause/linux/pause.c
    [ -f "$pause_src" ] || (cd "$SRC" && "$GO" mod download k8s.io/kubernetes) || die "cannot fetch k8s.io/kubernetes@$K8S_VERSION"
    mkdir -p "$pdir"
    # The flags of build/pause/Makefile (CFLAGS), with its TAG.
    gcc -Os -Wall -Werror -static -DVERSION="v${PAUSE_IMAGE##*:}-chaosbench" -o "$pdir/pause" "$pause_src" ||
      die "cannot compile $pause_src (apt-get install gcc libc6-dev)"
  fi
  import_binary "$PAUSE_IMAGE" "$pdir" "$(sha256sum "$pdir/pause" | cut -c1-16)" '["/pause"]'
fi

# --- CoreDNS -----------------------------------------------------------------------------------------
cdir=$DIR/images/coredns
if ! have "$COREDNS_IMAGE" "$cdir"; then
  # Rebuilt only when its go.mod or go.sum changes (their hash is the stamp).
  cstamp=$(cat "$SRC/coredns/go.mod" "$SRC/coredns/go.sum" | sha256sum | cut -c1-16)
  if [ ! -x "$cdir/coredns" ] || [ "$(cat "$cdir.stamp" 2>/dev/null)" != "$cstamp" ]; then
    log "building CoreDNS (${COREDNS_IMAGE##*:}) from the Go module proxy"
    mkdir -p "$cdir"
    (cd "$SRC/coredns" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags='-s -w -buildid=' -o "$cdir/coredns" github.com/coredns/coredns) ||
      die "cannot build CoreDNS"
    echo "$cstamp" >"$cdir.stamp"
  fi
  import_binary "$COREDNS_IMAGE" "$cdir" "$(sha256sum "$cdir/coredns" | cut -c1-16)" '["/coredns"]'
fi

# --- copy into containerd ----------------------------------------------------------------------------
# A stamp per image holds the Docker image ID last imported; the image must also still be in containerd.
present=$(ctr_ images ls -q)
for image in $PAUSE_IMAGE $COREDNS_IMAGE $CHAOSBENCH_IMAGES ${K8S_EXTRA_IMAGES:-}; do
  id=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) ||
    die "image $image is not in Docker (make images, or build it first)"
  ref=$image
  case $ref in */*/*) ;; */*) ref=docker.io/$ref ;; *) ref=docker.io/library/$ref ;; esac
  case $ref in *:*) ;; *) ref=$ref:latest ;; esac
  stamp=$DIR/images/$(echo "$ref" | tr '/:' '__').id
  if [ "$(cat "$stamp" 2>/dev/null)" = "$id" ] && grep -qxF "$ref" <<<"$present"; then
    continue
  fi
  log "importing $image into containerd (k8s.io)"
  docker save "$image" | ctr_ images import - >/dev/null || die "ctr import of $image failed"
  echo "$id" >"$stamp"
done
log "images ready: $PAUSE_IMAGE $COREDNS_IMAGE $CHAOSBENCH_IMAGES ${K8S_EXTRA_IMAGES:-}"
