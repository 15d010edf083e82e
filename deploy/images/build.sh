#!/usr/bin/env bash
# Builds every image the reference stack needs, with no container registry:
#
#   base   (CHAOSBENCH_BASE_IMAGE)   Debian bookworm minbase rootfs from debootstrap with redis-server,
#                                    nginx-light, haproxy (2.6), postgresql-15, iproute2, iptables; runs Redis,
#                                    NGINX, HAProxy, PostgreSQL and the fault sidecar.
#   refapi (CHAOSBENCH_REFAPI_IMAGE) the static ./cmd/refapi binary alone (like FROM scratch).
#   naiveshop (CHAOSBENCH_NAIVESHOP_IMAGE) the static ./examples/naiveshop binary alone: the example of a
#                                    user's own service (examples/README.md).
#   ticketdesk (CHAOSBENCH_TICKETDESK_IMAGE) the static ./examples/ticketdesk binary alone: a service shaped
#                                    unlike the contract, for declared scenarios (examples/README.md).
#   loader (CHAOSBENCH_LOADER_IMAGE) the static ./cmd/chaosbench binary alone: the load workers of
#                                    `chaosbench run --workers N` (and of Kubernetes Jobs), `chaosbench worker`.
#
# All are made with `docker import`, so neither a registry nor a Docker builder (buildx) is needed.
# Each image carries the label chaosbench.inputs=<sha256 of its inputs>; an image whose label matches is
# left alone, so a warm run costs a hash and two `docker image inspect` calls.
set -euo pipefail
cd "$(dirname "$0")/../.."

BASE_IMAGE=${CHAOSBENCH_BASE_IMAGE:-chaosbench/base:bookworm}
REFAPI_IMAGE=${CHAOSBENCH_REFAPI_IMAGE:-chaosbench/refapi:dev}
NAIVESHOP_IMAGE=${CHAOSBENCH_NAIVESHOP_IMAGE:-chaosbench/naiveshop:dev}
TICKETDESK_IMAGE=${CHAOSBENCH_TICKETDESK_IMAGE:-chaosbench/ticketdesk:dev}
LOADER_IMAGE=${CHAOSBENCH_LOADER_IMAGE:-chaosbench/loader:dev}
SUITE=${CHAOSBENCH_SUITE:-bookworm}
# Empty means debootstrap's default mirror; set it to a local mirror on an air-gapped machine.
MIRROR=${CHAOSBENCH_DEBIAN_MIRROR:-}
PACKAGES=redis-server,nginx-light,haproxy,postgresql-15,iproute2,iptables,ca-certificates
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

# --- Go service images -------------------------------------------------------------------------------
# go_image IMAGE PKG NAME builds the static binary of main package PKG and imports it alone (like FROM
# scratch) as IMAGE, with /NAME as its entrypoint. A reproducible build: the binary's hash is the image's
# input hash, so an unchanged source tree (Go's build cache makes this fast) leaves the image alone.
go_image() {
  local image=$1 pkg=$2 name=$3 dir=$OUT/$3
  "$GO" list "$pkg" >/dev/null 2>&1 || die "cannot build $pkg (go list fails): nothing to build $image from"
  mkdir -p "$dir"
  CGO_ENABLED=0 "$GO" build -trimpath -ldflags='-s -w -buildid=' -o "$dir/$name" "$pkg"
  local hash
  hash=$(sha256sum "$dir/$name" | cut -c1-16)
  if [ "$(label "$image")" = "$hash" ]; then
    log "$image is up to date"
    return
  fi
  log "importing $image"
  # /tmp exists because Go's os.TempDir and some libraries expect it even in a scratch image.
  mkdir -p "$dir/tmp"
  chmod 1777 "$dir/tmp"
  tar -C "$dir" -c "$name" tmp | docker import \
    --change "LABEL chaosbench.inputs=$hash" \
    --change "ENTRYPOINT [\"/$name\"]" \
    --change 'EXPOSE 8080' \
    --change 'USER 65534:65534' \
    - "$image" >/dev/null
}

# REFAPI_PKG lets a developer build the refapi image from another main package (say, a local stub).
go_image "$REFAPI_IMAGE" "${REFAPI_PKG:-./cmd/refapi}" refapi
# The second implementation of the contract (examples/README.md): a user's image, as far as chaosbench knows.
go_image "$NAIVESHOP_IMAGE" ./examples/naiveshop naiveshop
# A service of another shape (its own paths, auth and dedupe header; TICKETDESK_MODE=flawed|correct).
go_image "$TICKETDESK_IMAGE" ./examples/ticketdesk ticketdesk
# The loader: every worker runs `chaosbench worker` from it (its entrypoint is the whole CLI).
go_image "$LOADER_IMAGE" ./cmd/chaosbench chaosbench
log "ready: $BASE_IMAGE $REFAPI_IMAGE $NAIVESHOP_IMAGE $TICKETDESK_IMAGE $LOADER_IMAGE"
