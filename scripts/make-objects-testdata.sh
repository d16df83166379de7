#!/usr/bin/env bash
# Builds testdata/objects/: a real etcd 3.4 snapshot holding objects of many kinds, written as
# kube-apiserver writes them (protobuf for built-ins and OpenShift routes, JSON for CRDs and custom
# resources), by an independent encoder (scripts/testdata/make_objects.py: Python protobuf over the
# protoc-compiled published .proto schema), and the source objects a decoder must print.
#
# Needs etcd + etcdctl 3.4 (Debian: apt-get install -y etcd-server etcd-client), python3 with protobuf.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/testdata/objects"
export ETCD_WANT_CLIENT_PORT="${ETCD_WANT_CLIENT_PORT:-42579}" ETCD_WANT_PEER_PORT="${ETCD_WANT_PEER_PORT:-42580}"
source "$ROOT/scripts/lib/etcd.sh"
etcd_require
WORK="$(mktemp -d "${TMPDIR:-/tmp}/make-objects.XXXXXX")"
cleanup() {
    etcd_stop
    rm -rf -- "$WORK"
}
trap cleanup EXIT

etcd_start
python3 "$ROOT/scripts/testdata/make_objects.py" --endpoint "$ETCD_ENDPOINT" \
    --schema "$ROOT/src/kube/decode/schema.fds" --out "$WORK"
etcd_ctl snapshot save "$WORK/objects.db" >"$WORK/etcdctl.log" 2>&1
mkdir -p "$OUT"
cp "$WORK/objects.db" "$WORK/objects.expected.json" "$OUT/"
echo "wrote $OUT/objects.db and objects.expected.json" >&2
