# shellcheck shell=bash
# Minimal throw-away etcd for the encrypted fixtures (scripts/make-encrypted-testdata.sh).
#
# - listens on 127.0.0.1 only, on two free high ports picked at start;
# - keeps its data dir under a fresh mktemp directory, removed by etcd_enc_stop;
# - the caller must `trap etcd_enc_stop EXIT` (etcd_enc_start does not install traps itself).
#
# A more general scripts/lib/etcd.sh (etcd_start/etcd_stop/etcd_require) is being written on
# another branch; this file is meant to be folded into it on merge.

ETCD_ENC_PID=""
ETCD_ENC_DIR=""
ETCD_ENC_ENDPOINT=""

etcd_enc_free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# etcd_enc_start NAME [SNAPSHOT] : starts etcd, sets ETCD_ENC_ENDPOINT (http://127.0.0.1:PORT).
# With SNAPSHOT, the data dir is first made by `etcdctl snapshot restore` (which checks the hash trailer).
etcd_enc_start() {
    local name="${1:-fixture}" snapshot="${2:-}" client_port peer_port i
    ETCD_ENC_DIR="$(mktemp -d "${TMPDIR:-/tmp}/etcd-enc.XXXXXX")"
    client_port="$(etcd_enc_free_port)"
    peer_port="$(etcd_enc_free_port)"
    while [ "$peer_port" = "$client_port" ]; do peer_port="$(etcd_enc_free_port)"; done
    ETCD_ENC_ENDPOINT="http://127.0.0.1:${client_port}"
    if [ -n "$snapshot" ]; then
        ETCDCTL_API=3 etcdctl snapshot restore "$snapshot" \
            --data-dir "$ETCD_ENC_DIR/data" \
            --name "$name" \
            --initial-cluster "${name}=http://127.0.0.1:${peer_port}" \
            --initial-advertise-peer-urls "http://127.0.0.1:${peer_port}" \
            --initial-cluster-token "etcd-autopsy-fixtures" \
            >"$ETCD_ENC_DIR/restore.log" 2>&1 || { cat "$ETCD_ENC_DIR/restore.log" >&2; return 1; }
    fi
    # env -i: no ETCD_* variables from the caller's environment leak into the flags.
    env -i PATH="$PATH" HOME="${HOME:-/tmp}" etcd \
        --name "$name" \
        --data-dir "$ETCD_ENC_DIR/data" \
        --listen-client-urls "$ETCD_ENC_ENDPOINT" \
        --advertise-client-urls "$ETCD_ENC_ENDPOINT" \
        --listen-peer-urls "http://127.0.0.1:${peer_port}" \
        --initial-advertise-peer-urls "http://127.0.0.1:${peer_port}" \
        --initial-cluster "${name}=http://127.0.0.1:${peer_port}" \
        --initial-cluster-token "etcd-autopsy-fixtures" \
        --initial-cluster-state new \
        --logger zap --log-outputs stderr \
        >"$ETCD_ENC_DIR/etcd.log" 2>&1 &
    ETCD_ENC_PID=$!
    for i in $(seq 1 100); do
        if ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENC_ENDPOINT" endpoint health >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$ETCD_ENC_PID" 2>/dev/null; then
            echo "etcd exited early; log:" >&2
            cat "$ETCD_ENC_DIR/etcd.log" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "etcd did not become healthy at $ETCD_ENC_ENDPOINT" >&2
    tail -n 40 "$ETCD_ENC_DIR/etcd.log" >&2
    return 1
}

# etcd_enc_stop : stops the etcd started by etcd_enc_start (by its pid only) and removes its dir.
etcd_enc_stop() {
    if [ -n "$ETCD_ENC_PID" ] && kill -0 "$ETCD_ENC_PID" 2>/dev/null; then
        kill "$ETCD_ENC_PID" 2>/dev/null || true
        wait "$ETCD_ENC_PID" 2>/dev/null || true
    fi
    ETCD_ENC_PID=""
    if [ -n "$ETCD_ENC_DIR" ] && [ -d "$ETCD_ENC_DIR" ]; then
        rm -rf "$ETCD_ENC_DIR"
    fi
    ETCD_ENC_DIR=""
    ETCD_ENC_ENDPOINT=""
}
