#!/usr/bin/env bash
# Assembles a host-based base image without Docker: one layer holding hypertest-runner at
# /usr/local/bin, written as an OCI image layout (oci-layout, index.json, blobs/sha256/...).
# The layer is reproducible (sorted entries, mtime 0, uid/gid 0, gzip without a name or time),
# so the same runner binary always gives the same digests. Check it with
# `skopeo inspect oci:<layout>:<tag>`; push it with `skopeo copy oci:<layout>:<tag> docker://...`.
#
# usage: make-host-base-image.sh <hypertest-runner> <new-layout-dir> [tag]   (tag: "host-base")
set -euo pipefail

die() { echo "make-host-base-image: $*" >&2; exit 2; }
(($# >= 2 && $# <= 3)) || die "usage: make-host-base-image.sh <hypertest-runner> <new-layout-dir> [tag]"
runner="$1" layout="$2" tag="${3:-host-base}"
[[ -f "$runner" && -x "$runner" ]] || die "$runner is not an executable file"
[[ ! -e "$layout" || -z "$(ls -A "$layout")" ]] || die "$layout exists and is not empty; give a new directory"
for tool in tar gzip sha256sum stat; do command -v "$tool" >/dev/null || die "$tool is required"; done

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported machine $(uname -m) (Lambda runs amd64 and arm64)" ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/usr/local/bin" "$layout/blobs/sha256"
install -m 0755 "$runner" "$work/root/usr/local/bin/hypertest-runner"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$work/root" -cf "$work/layer.tar" usr
gzip -n -9 -c "$work/layer.tar" > "$work/layer.tar.gz"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# Stores a file as a blob; prints its hex digest.
store() { local h; h="$(sha "$1")"; cp "$1" "$layout/blobs/sha256/$h"; echo "$h"; }

diff_id="$(sha "$work/layer.tar")"
layer="$(store "$work/layer.tar.gz")"
layer_size="$(size "$work/layer.tar.gz")"

printf '%s' '{"architecture":"'"$arch"'","config":{"Entrypoint":["/usr/local/bin/hypertest-runner"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","HOME=/tmp","LAMBDA_TASK_ROOT=/var/task"],"WorkingDir":"/var/task"},"created":"1970-01-01T00:00:00Z","history":[{"created":"1970-01-01T00:00:00Z","created_by":"make-host-base-image.sh: hypertest-runner"}],"os":"linux","rootfs":{"diff_ids":["sha256:'"$diff_id"'"],"type":"layers"}}' > "$work/config.json"
config="$(store "$work/config.json")"
config_size="$(size "$work/config.json")"

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$config"'","size":'"$config_size"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'"$layer"'","size":'"$layer_size"'}]}' > "$work/manifest.json"
manifest="$(store "$work/manifest.json")"
manifest_size="$(size "$work/manifest.json")"

printf '%s\n' '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
printf '%s\n' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$manifest"'","size":'"$manifest_size"',"annotations":{"org.opencontainers.image.ref.name":"'"$tag"'"}}]}' > "$layout/index.json"
echo "sha256:$manifest"
