#!/usr/bin/env bash
# Builds every image the reference stack needs, with no container registry:
#
#   base   (CHAOSBENCH_BASE_IMAGE)   Debian bookworm minbase rootfs from debootstrap with redis-server,
#                                    nginx-light, iproute2, iptables; runs Redis, NGINX and the fault sidecar.
#   refapi (CHAOSBENCH_REFAPI_IMAGE) the static ./cmd/refapi binary alone (like FROM scratch).
#
# Both are made with `docker import`, so neither a registry nor a Docker builder (buildx) is needed.
# Each image carries the label chaosbench.inputs=<sha256 of its inputs>; an image whose label matches is
# left alone, so a warm run costs a hash and two `docker image inspect` calls.
set -euo pipefail
cd "$(dirname "$0")/../.."

BASE_IMAGE=${CHAOSBENCH_BASE_IMAGE:-chaosbench/base:bookworm}
REFAPI_IMAGE=${CHAOSBENCH_REFAPI_IMAGE:-chaosbench/refapi:dev}
SUITE=${CHAOSBENCH_SUITE:-bookworm}
# Empty means debootstrap's default mirror; set it to a local mirror on an air-gapped machine.
MIRROR=${CHAOSBENCH_DEBIAN_MIRROR:-}
PACKAGES=redis-server,nginx-light,iproute2,iptables,ca-certificates
OUT=build/images
GO=${GO:-go}

die() { echo "images: $*" >&2; exit 1; }
log() { echo "images: $*" >&2; }

command -v docker >/dev/null || die "docker is not installed (apt-get install docker.io)"
docker info >/dev/null 2>&1 || die "cannot reach the Docker daemon (is it running, and may this user use it?)"

# label IMAGE prints the image's chaosbench.inputs label, or nothing when the image is missing.
label() { docker image inspect -f '{{index .Config.Labels "chaosbench.inputs"}}' "$1" 2>/dev/null || true; }

mkdir -p "$OUT"

# --- base image --------------------------------------------------------------------------------------
# Bump BASE_RECIPE whenever the steps below change how the rootfs is made: it is part of the input hash.
BASE_RECIPE=1
base_hash=$(printf '%s\n' "$BASE_RECIPE" "$SUITE" "$MIRROR" "$PACKAGES" | sha256sum | cut -c1-16)
if [ "$(label "$BASE_IMAGE")" = "$base_hash" ]; then
  log "$BASE_IMAGE is up to date"
else
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  [ "$(id -u)" = 0 ] || die "debootstrap needs root"
  rootfs=$OUT/rootfs-$SUITE
  # The rootfs is kept beside a stamp so that a deleted image is re-imported without a new debootstrap.
  if [ "$(cat "$rootfs.stamp" 2>/dev/null)" != "$base_hash" ]; then
    log "debootstrap $SUITE into $rootfs (about a minute)"
    rm -rf "$rootfs" "$rootfs.stamp"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" $MIRROR >"$OUT/debootstrap.log" 2>&1 ||
      die "debootstrap failed, see $OUT/debootstrap.log"
    # Package caches and lists only make the image bigger; services must not start at build time.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    echo "$base_hash" >"$rootfs.stamp"
  fi
  log "importing $BASE_IMAGE"
  tar -C "$rootfs" -c . | docker import \
    --change "LABEL chaosbench.inputs=$base_hash" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    - "$BASE_IMAGE" >/dev/null
fi

# --- refapi image ------------------------------------------------------------------------------------
# REFAPI_PKG lets a developer build the image from another main package (say, a local stub).
REFAPI_PKG=${REFAPI_PKG:-./cmd/refapi}
"$GO" list "$REFAPI_PKG" >/dev/null 2>&1 || die "cannot build $REFAPI_PKG (go list fails): nothing to build the refapi image from"
# A reproducible static build: the binary's hash is the image's input hash, so an unchanged source tree
# (Go's build cache makes this fast) leaves the image alone.
mkdir -p "$OUT/refapi"
CGO_ENABLED=0 "$GO" build -trimpath -ldflags='-s -w -buildid=' -o "$OUT/refapi/refapi" "$REFAPI_PKG"
refapi_hash=$(sha256sum "$OUT/refapi/refapi" | cut -c1-16)
if [ "$(label "$REFAPI_IMAGE")" = "$refapi_hash" ]; then
  log "$REFAPI_IMAGE is up to date"
else
  log "importing $REFAPI_IMAGE"
  # /tmp exists because Go's os.TempDir and some libraries expect it even in a scratch image.
  mkdir -p "$OUT/refapi/tmp"
  chmod 1777 "$OUT/refapi/tmp"
  tar -C "$OUT/refapi" -c refapi tmp | docker import \
    --change "LABEL chaosbench.inputs=$refapi_hash" \
    --change 'ENTRYPOINT ["/refapi"]' \
    --change 'EXPOSE 8080' \
    --change 'USER 65534:65534' \
    - "$REFAPI_IMAGE" >/dev/null
fi
log "ready: $BASE_IMAGE $REFAPI_IMAGE"
