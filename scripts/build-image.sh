#!/usr/bin/env bash
# Builds the etcd-autopsy container image from scratch with buildah (Debian `buildah`), pulling no
# base image, and checks it: the image's rootfs holds exactly the static binary, runs as a non-root
# user, and `demo` runs from it.
#
#   scripts/build-image.sh [--tag NAME:TAG] [--archive FILE.tar]
#
# Output: the image in buildah's local store as NAME:TAG (default etcd-autopsy:<version>) and an
# OCI archive (default target/image/etcd-autopsy-<version>.oci.tar) to load with
# `podman load -i` / `skopeo copy oci-archive:FILE docker://registry/…`.
#
# Running the image: where `podman run` works, `podman run --rm etcd-autopsy:<version> demo`.
# In sandboxes that forbid the runtime's setrlimit (seen on this project's CI machines: crun
# "setrlimit RLIMIT_NOFILE: Operation not permitted"), the check unpacks the archive's layer and
# runs the binary from the unpacked rootfs instead, and says so.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
tag="etcd-autopsy:$version"
archive="target/image/etcd-autopsy-$version.oci.tar"
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=$2; shift ;;
    --archive) archive=$2; shift ;;
    *) echo "usage: $0 [--tag NAME:TAG] [--archive FILE.tar]" >&2; exit 2 ;;
  esac
  shift
done
command -v buildah >/dev/null || { echo "build-image: needs buildah (apt-get install -y buildah)" >&2; exit 2; }

bin=$(bash scripts/build-static.sh | tail -n1)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$bin" "$ctx/etcd-autopsy"
cp Containerfile "$ctx/Containerfile"
# chroot isolation: no user namespaces or overlay mounts needed to build a FROM scratch image.
buildah bud --quiet --isolation chroot --layers=false -f "$ctx/Containerfile" -t "$tag" "$ctx" >/dev/null
mkdir -p "$(dirname "$archive")"
rm -f "$archive"
buildah push --quiet "$tag" "oci-archive:$archive:$tag" >/dev/null
echo "image $tag -> $archive"

# Check what is in it, from the archive itself (not from our build context).
un="$ctx/unpacked"
mkdir -p "$un/oci" "$un/rootfs"
tar -xf "$archive" -C "$un/oci"
manifest=$(python3 - "$un/oci" <<'PY'
import json, sys, os
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
m = idx["manifests"][0]["digest"].split(":", 1)[1]
print(m)
PY
)
python3 - "$un/oci" "$manifest" "$un/rootfs" <<'PY'
import json, os, sys, tarfile
d, m, root = sys.argv[1], sys.argv[2], sys.argv[3]
blob = lambda dg: os.path.join(d, "blobs", "sha256", dg.split(":", 1)[1])
man = json.load(open(blob("sha256:" + m)))
cfg = json.load(open(blob(man["config"]["digest"])))["config"]
assert cfg.get("User") == "65532:65532", f"image user is {cfg.get('User')!r}, expected 65532:65532"
assert cfg.get("Entrypoint") == ["/usr/bin/etcd-autopsy"], cfg.get("Entrypoint")
files = []
for layer in man["layers"]:
    with tarfile.open(blob(layer["digest"])) as t:
        files += [m.name.lstrip("./") for m in t.getmembers() if not m.isdir()]
        t.extractall(root, filter="data")
files.sort()
assert files == ["usr/bin/etcd-autopsy"], f"unexpected files in the image: {files}"
print(f"image config: user {cfg['User']}, entrypoint {cfg['Entrypoint']}, files {files}")
PY

if podman run --rm --network=none "localhost/$tag" --version >/dev/null 2>&1; then
  podman run --rm --network=none "localhost/$tag" demo --quiet >/dev/null && rc=0 || rc=$?
  how="podman run"
else
  "$un/rootfs/usr/bin/etcd-autopsy" demo --quiet >/dev/null && rc=0 || rc=$?
  how="the unpacked rootfs (podman run is not permitted here)"
fi
# demo exits 1: the built-in incident has problems to report.
if [ "$rc" -ne 1 ]; then
  echo "build-image: demo from $how exited $rc, expected 1" >&2
  exit 1
fi
echo "demo ran from $how (exit 1: problems found, as expected)"
