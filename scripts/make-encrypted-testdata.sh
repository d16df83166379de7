#!/usr/bin/env bash
# Rebuild the encrypted fixtures: testdata/encrypted, testdata/openshift, testdata/incident,
# testdata/openshift-managed. With dataset names as arguments (multi openshift incident
# openshift-managed) only those snapshots are made again; the generated files of all of them are
# rewritten (deterministic: same bytes).
# See testdata/README.md, section "Encrypted fixtures". Installs nothing.
#
# Needs: etcd + etcdctl 3.4.x (Debian: etcd-server etcd-client), python3 with cryptography, PyNaCl, PyYAML.
# etcd runs on 127.0.0.1 only, on free high ports, with a temporary data dir; it is stopped on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TD="$ROOT/testdata"
GEN="$HERE/testdata/make_encrypted.py"
VERIFY="$HERE/testdata/verify_encrypted.py"

missing_apt=()
missing_pip=()
command -v etcd >/dev/null 2>&1 || missing_apt+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing_apt+=(etcd-client)
command -v python3 >/dev/null 2>&1 || missing_apt+=(python3)
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import cryptography' 2>/dev/null || missing_pip+=(cryptography)
    python3 -c 'import nacl.secret' 2>/dev/null || missing_pip+=(pynacl)
    python3 -c 'import yaml' 2>/dev/null || missing_pip+=(pyyaml)
fi
if [ ${#missing_apt[@]} -gt 0 ] || [ ${#missing_pip[@]} -gt 0 ]; then
    echo "missing prerequisites; install them and re-run:" >&2
    [ ${#missing_apt[@]} -gt 0 ] && echo "  sudo apt-get install ${missing_apt[*]}" >&2
    [ ${#missing_pip[@]} -gt 0 ] && echo "  python3 -m pip install ${missing_pip[*]}" >&2
    exit 1
fi
etcd_ver="$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p')"
case "$etcd_ver" in
    3.4.*) ;;
    *) echo "warning: etcd $etcd_ver found; the committed fixtures were made with 3.4.23" >&2 ;;
esac

# shellcheck source=lib/etcd_enc.sh
. "$HERE/lib/etcd_enc.sh"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/autopsy-enc.XXXXXX")"
cleanup() { etcd_enc_stop; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ONLY=multi|openshift|incident rebuilds that one dataset; the other datasets' files stay as they are.
ONLY="${ONLY:-}"
if [ -n "$ONLY" ]; then
    case "$ONLY" in
        multi) only_dir=encrypted ;;
        openshift|incident) only_dir="$ONLY" ;;
        *) echo "ONLY=$ONLY: one of multi, openshift, incident" >&2; exit 2 ;;
    esac
    python3 "$GEN" build --out "$WORK/td" --ops "$WORK/ops"
    cp -r "$WORK/td/$only_dir/." "$TD/$only_dir/"
else
    python3 "$GEN" build --out "$TD" --ops "$WORK/ops"
fi

ALL="multi:encrypted/multi openshift:openshift/snapshot_2026-11-01_120000 incident:incident/snapshot
     openshift-managed:openshift-managed/snapshot_2026-11-20_120000
     openshift-managed-after:openshift-managed-after/snapshot_2026-11-27_120000"
PAIRS=()
for pair in $ALL; do
    if [ $# -eq 0 ]; then PAIRS+=("$pair"); continue; fi
    for want in "$@"; do [ "${pair%%:*}" = "$want" ] && PAIRS+=("$pair"); done
done
[ ${#PAIRS[@]} -gt 0 ] || { echo "no such dataset: $*" >&2; exit 2; }

# dataset  ->  snapshot path (without .db)
for pair in "${PAIRS[@]}"; do
    ds="${pair%%:*}"
    [ -n "$ONLY" ] && [ "$ds" != "$ONLY" ] && continue
    dest="$TD/${pair#*:}"
    etcd_enc_start "autopsy-$ds"
    python3 "$GEN" load --ops "$WORK/ops/$ds.jsonl" --endpoint "$ETCD_ENC_ENDPOINT"
    ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENC_ENDPOINT" snapshot save "$WORK/$ds.db" \
        >"$WORK/$ds.save.log" 2>&1 || { cat "$WORK/$ds.save.log" >&2; exit 1; }
    etcd_enc_stop
    mv "$WORK/$ds.db" "$dest.db"
    chmod 0644 "$dest.db"
    ETCDCTL_API=3 etcdctl snapshot status "$dest.db" -w json >"$dest.status.json"
    python3 "$GEN" status --expected "$(dirname "$dest")/expected.json" --status "$dest.status.json"
    echo "wrote $dest.db ($(stat -c %s "$dest.db") bytes)" >&2
done

# Round trip: restore each snapshot into a fresh etcd and check every record against expected.json
# with an independent model of the apiserver read path.
for pair in "${PAIRS[@]}"; do
    ds="${pair%%:*}"
    [ -n "$ONLY" ] && [ "$ds" != "$ONLY" ] && continue
    snap="$TD/${pair#*:}.db"
    etcd_enc_start "verify-$ds" "$snap"
    python3 "$VERIFY" --dataset "$ds" --testdata "$TD" --endpoint "$ETCD_ENC_ENDPOINT"
    etcd_enc_stop
done
echo "encrypted fixtures rebuilt and verified" >&2
