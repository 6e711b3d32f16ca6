#!/usr/bin/env bash
# Checks the Containerfile as far as this machine allows: no registry is reachable and
# `podman run` does not work here, so it
#   1. makes stand-ins for the two base images from local files (the Bun binary from
#      node_modules, the host's glibc and CA certificates, a passwd with the nonroot user),
#   2. builds the real Containerfile with podman against them (npm registry via host network),
#   3. mounts the image and runs its /app/stash2plex in a chroot of the image's own files,
#      as user 65532, against a Stash simulator, and asks it `healthcheck`,
#   4. prints the image size and checks the image's metadata (user, volume, port, healthcheck).
# Usage: bash test/container/check.sh   (root; needs podman)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PODMAN=(podman --storage-driver vfs)
CHROOT=$(command -v chroot)
WORK=$(mktemp -d)
MNT=""
cleanup() {
  [ -n "${SERVICE_PID:-}" ] && kill "$SERVICE_PID" 2>/dev/null || true
  [ -n "${SIM_PID:-}" ] && kill "$SIM_PID" 2>/dev/null || true
  if [ -n "$MNT" ]; then umount "$MNT/config" 2>/dev/null || true; umount "$MNT/proc" 2>/dev/null || true; umount "$MNT/dev" 2>/dev/null || true; "${PODMAN[@]}" image unmount stash2plex:check >/dev/null 2>&1 || true; fi
  # vfs storage copies every layer: leave nothing behind for the next run.
  "${PODMAN[@]}" rmi -f stash2plex:check localhost/stand-in/bun:1.4.5 localhost/stand-in/cc:nonroot >/dev/null 2>&1 || true
  "${PODMAN[@]}" image prune -f >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

copy_libs() { # copy a binary's shared libraries (and the loader) into a rootfs
  local rootfs=$1 bin=$2
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
}

BUN_BIN=$(readlink -f node_modules/bun/bin/bun.exe)
echo "== stand-in images"
mkdir -p "$WORK/bun/usr/local/bin" "$WORK/bun/etc/ssl/certs" "$WORK/bun/tmp"
cp "$BUN_BIN" "$WORK/bun/usr/local/bin/bun"
copy_libs "$WORK/bun" "$BUN_BIN"
cp /etc/ssl/certs/ca-certificates.crt "$WORK/bun/etc/ssl/certs/"
tar -C "$WORK/bun" -c . | "${PODMAN[@]}" import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' - localhost/stand-in/bun:1.4.5 >/dev/null

mkdir -p "$WORK/cc/etc/ssl/certs" "$WORK/cc/tmp" "$WORK/cc/proc" "$WORK/cc/dev"
chmod 1777 "$WORK/cc/tmp"
copy_libs "$WORK/cc" "$BUN_BIN"   # the compiled executable needs exactly what bun needs
cp /etc/ssl/certs/ca-certificates.crt "$WORK/cc/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$WORK/cc/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$WORK/cc/etc/group"
tar -C "$WORK/cc" -c . | "${PODMAN[@]}" import - localhost/stand-in/cc:nonroot >/dev/null

echo "== podman build"
"${PODMAN[@]}" build --format docker --isolation chroot --network host --pull=never \
  --build-arg BUN_IMAGE=localhost/stand-in/bun:1.4.5 \
  --build-arg RUNTIME_IMAGE=localhost/stand-in/cc:nonroot \
  -t stash2plex:check -f Containerfile . > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; exit 1; }

grep -q "bun-linux-x64-baseline" "$WORK/build.log" || { echo "the executable was not built for the baseline x64 CPU"; tail -5 "$WORK/build.log"; exit 1; }
echo "== image metadata"
"${PODMAN[@]}" image inspect stash2plex:check --format '{{.Config.User}} {{json .Config.ExposedPorts}} {{json .Config.Volumes}} {{json .Config.Entrypoint}}'
USER_ID=$("${PODMAN[@]}" image inspect stash2plex:check --format '{{.Config.User}}')
[ "$USER_ID" = "65532:65532" ] || { echo "image user is '$USER_ID', expected 65532:65532"; exit 1; }
"${PODMAN[@]}" image inspect stash2plex:check --format '{{json .Config.Healthcheck}}' | grep -q '"/app/stash2plex","healthcheck"' \
  || { echo "HEALTHCHECK does not run the binary"; exit 1; }
SIZE=$("${PODMAN[@]}" image inspect stash2plex:check --format '{{.Size}}')
echo "image size: $SIZE bytes ($((SIZE / 1024 / 1024)) MiB)"
echo "$SIZE" > "${IMAGE_SIZE_FILE:-/dev/null}"

echo "== run the image's binary (chroot into the image's files, as 65532)"
MNT=$("${PODMAN[@]}" image mount stash2plex:check)
mount --bind /proc "$MNT/proc"
mount --bind /dev "$MNT/dev"
[ "$(stat -c %u "$MNT/config")" = "65532" ] || { echo "/config is not owned by 65532"; exit 1; }
node_modules/.bin/bun sim/stash/main.ts 20 > "$WORK/sim.json" &
SIM_PID=$!
for _ in $(seq 100); do [ -s "$WORK/sim.json" ] && break; sleep 0.1; done
STASH_URL=$(sed -E 's/.*"url":"([^"]+)".*/\1/' "$WORK/sim.json")
PORT=$((20000 + RANDOM % 20000))
env -i STASH_URL="$STASH_URL" DATA_DIR=/tmp/s2p LISTEN_HOST=127.0.0.1 LISTEN_PORT=$PORT LOG_FORMAT=json \
  "$CHROOT" --userspec=65532:65532 "$MNT" /app/stash2plex serve > "$WORK/service.log" 2>&1 &
SERVICE_PID=$!
ok=""
for _ in $(seq 100); do
  if env -i LISTEN_PORT=$PORT "$CHROOT" --userspec=65532:65532 "$MNT" /app/stash2plex healthcheck; then ok=1; break; fi
  sleep 0.1
done
[ -n "$ok" ] || { echo "the image's binary never answered healthy"; cat "$WORK/service.log"; exit 1; }
env -i "$CHROOT" --userspec=65532:65532 "$MNT" /app/stash2plex --version
echo "== as 99:100 (Unraid's nobody:users) against a root-owned, empty /config"
mkdir -p "$WORK/rootowned" && chown 0:0 "$WORK/rootowned" && chmod 755 "$WORK/rootowned"
mount --bind "$WORK/rootowned" "$MNT/config"
set +e
env -i STASH_URL="$STASH_URL" DATA_DIR=/config LISTEN_PORT=$((PORT + 1)) "$CHROOT" --userspec=99:100 "$MNT" /app/stash2plex serve > "$WORK/denied.log" 2>&1
denied=$?
set -e
umount "$MNT/config"
if [ "$denied" != 1 ] || [ "$(wc -l < "$WORK/denied.log")" != 1 ] || ! grep -q "chown -R 99:100" "$WORK/denied.log"; then
  echo "unwritable /config: expected one line with the fix and exit 1, got exit $denied:"; cat "$WORK/denied.log"; exit 1
fi
echo "unwritable /config, one line: $(cat "$WORK/denied.log")"
echo "healthy: the image's /app/stash2plex answers /healthz"
