# shellcheck shell=bash
#
# scripts/lib/etcd.sh — start and stop a throw-away, loopback-only etcd for building test fixtures.
#
# Source it, then:
#
#     etcd_require                 # etcd, etcdctl, python3 present? (installs nothing)
#     trap etcd_stop EXIT          # always stop what we start
#     etcd_start [extra etcd flags...]   e.g. etcd_start --quota-backend-bytes=262144
#     etcd_start_on DIR [extra etcd flags...]   start on an existing data dir (e.g. one
#                                  `etcdctl snapshot restore` made); DIR stays the caller's
#     etcd_ctl put foo bar         # etcdctl pointed at the running member
#     etcd_stop --keep-data        # stop, keep $ETCD_DATA_DIR (e.g. to copy member/snap/db)
#     etcd_stop                    # stop (if running) and delete the temp dir
#
# After etcd_start these are exported:
#     ETCDCTL_API=3
#     ETCD_ENDPOINT      http://127.0.0.1:<client port>   (also serves the JSON gateway at /v3/…)
#     ETCD_DATA_DIR      <temp>/data                      (the member's --data-dir; DIR for etcd_start_on)
#     ETCD_PID, ETCD_CLIENT_PORT, ETCD_PEER_PORT, ETCD_LOG (etcd's own log file)
#
# One member at a time per shell: a second etcd_start first stops the running one (its data dir is
# kept until the final etcd_stop, which deletes every temp dir this shell created).
# Everything listens on 127.0.0.1 only, on ports the kernel reports free, with a fresh temp data dir.
#
# Knobs (environment, all optional):
#     ETCD_NAME          member name            (default: autopsy-fixture; for etcd_start_on, the
#                        name the data dir was restored with)
#     ETCD_CLUSTER_TOKEN --initial-cluster-token (default: etcd-autopsy-fixtures)
#     ETCD_START_TIMEOUT seconds to wait for health (default: 60)
#     ETCD_TMP_PARENT    where the temp dir goes (default: $TMPDIR or /tmp)
#     ETCD_WANT_CLIENT_PORT, ETCD_WANT_PEER_PORT
#                        use these ports if both are free right now, else fall back to random ones.
#                        Member and cluster IDs and the URLs in the `members` bucket derive from the
#                        ports, so fixed ports make those bytes repeat across runs.

ETCD_INSTALL_HINT="install with: apt-get install -y etcd-server etcd-client"

# The member never talks to anything but itself; make sure no proxy setting can route loopback traffic.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"

_ETCD_TMPS=()

_etcd_log() { printf 'etcd.sh: %s\n' "$*" >&2; }

# etcd_require: fail with an install hint if a tool is missing. Never installs anything itself.
etcd_require() {
    local missing=() tool
    for tool in etcd etcdctl python3; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if ((${#missing[@]})); then
        _etcd_log "missing: ${missing[*]}"
        echo "$ETCD_INSTALL_HINT" >&2
        exit 1
    fi
}

# _etcd_free_ports N: print N distinct TCP ports that are free on 127.0.0.1 right now.
# All sockets are held open until every port is chosen, so the N ports differ from each other.
_etcd_free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

# _etcd_ports_free PORT...: true if every PORT can be bound on 127.0.0.1 right now.
_etcd_ports_free() {
    python3 - "$@" <<'PY' 2>/dev/null
import socket, sys
socks = []
for p in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Go's net.Listen sets SO_REUSEADDR, so connections in TIME_WAIT from a previous run don't block etcd
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(p)))
    socks.append(s)
PY
}

# _etcd_cluster_version: print the cluster version the member reports on /version ("" if unreachable).
_etcd_cluster_version() {
    python3 - "$ETCD_CLIENT_PORT" <<'PY' 2>/dev/null
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=2)
c.request("GET", "/version")
print(json.loads(c.getresponse().read()).get("etcdcluster", ""))
PY
}

# etcd_ctl ARGS...: etcdctl (API v3) against the running member.
etcd_ctl() {
    # An inherited ETCDCTL_ENDPOINTS would clash with --endpoints.
    env -u ETCDCTL_ENDPOINTS ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ENDPOINT" "$@"
}

# etcd_start [extra etcd flags...]: start one member on loopback and wait until it is healthy and the
# cluster version is decided (etcd sets it through raft a few seconds after start; waiting keeps later
# raft indexes, and so meta/consistent_index, independent of timing).
etcd_start() {
    etcd_stop --keep-data
    local parent="${ETCD_TMP_PARENT:-${TMPDIR:-/tmp}}"
    local name="${ETCD_NAME:-autopsy-fixture}" token="${ETCD_CLUSTER_TOKEN:-etcd-autopsy-fixtures}"
    local timeout="${ETCD_START_TIMEOUT:-60}" attempt ports deadline
    for attempt in 1 2 3; do
        _ETCD_TMP="$(mktemp -d "$parent/etcd-fixture.XXXXXX")" || return 1
        _ETCD_TMPS+=("$_ETCD_TMP")
        export ETCD_DATA_DIR="$_ETCD_TMP/data" ETCD_LOG="$_ETCD_TMP/etcd.log"
        ports=""
        if ((attempt == 1)) && [[ -n "${ETCD_WANT_CLIENT_PORT:-}" && -n "${ETCD_WANT_PEER_PORT:-}" ]] &&
            _etcd_ports_free "$ETCD_WANT_CLIENT_PORT" "$ETCD_WANT_PEER_PORT"; then
            ports="$ETCD_WANT_CLIENT_PORT $ETCD_WANT_PEER_PORT"
        elif ((attempt == 1)) && [[ -n "${ETCD_WANT_CLIENT_PORT:-}" ]]; then
            _etcd_log "ports $ETCD_WANT_CLIENT_PORT/${ETCD_WANT_PEER_PORT:-?} not free; using random ones"
        fi
        [[ -n "$ports" ]] || ports="$(_etcd_free_ports 2)" || return 1
        _etcd_spawn "$name" "$ports" --initial-cluster-token "$token" --initial-cluster-state new "$@"
        _etcd_wait_up "$timeout" && return 0
        _etcd_log "attempt $attempt: etcd did not become healthy; last log lines:"
        tail -n 15 "$ETCD_LOG" >&2 || true
        etcd_stop --keep-data
        rm -rf -- "$_ETCD_TMP"
    done
    _etcd_log "giving up starting etcd"
    return 1
}

# _etcd_spawn NAME "CLIENT_PORT PEER_PORT" [etcd flags...]: start etcd in the background on
# $ETCD_DATA_DIR, logging to $ETCD_LOG, listening on 127.0.0.1 at those ports; exports ETCD_PID,
# ETCD_ENDPOINT, ETCD_CLIENT_PORT, ETCD_PEER_PORT.
_etcd_spawn() {
    local name="$1" ports="$2"
    shift 2
    read -r ETCD_CLIENT_PORT ETCD_PEER_PORT <<<"$ports"
    export ETCD_CLIENT_PORT ETCD_PEER_PORT
    export ETCD_ENDPOINT="http://127.0.0.1:$ETCD_CLIENT_PORT"
    export ETCDCTL_API=3
    local peer="http://127.0.0.1:$ETCD_PEER_PORT" unset_args=() v
    # etcd reads every ETCD_* environment variable as a flag and refuses to start when one also
    # comes as a flag (our exported ETCD_DATA_DIR, say), so it gets an environment without them.
    for v in "${!ETCD_@}"; do unset_args+=(-u "$v"); done
    env "${unset_args[@]}" etcd --name "$name" \
        --data-dir "$ETCD_DATA_DIR" \
        --listen-client-urls "$ETCD_ENDPOINT" \
        --advertise-client-urls "$ETCD_ENDPOINT" \
        --listen-peer-urls "$peer" \
        --initial-advertise-peer-urls "$peer" \
        --initial-cluster "$name=$peer" \
        --logger zap --log-outputs stderr \
        "$@" >"$ETCD_LOG" 2>&1 &
    export ETCD_PID=$!
}

# _etcd_wait_up SECONDS: wait until the member started as $ETCD_PID is healthy and the cluster version
# is decided; false if it died (port taken between our check and its bind?) or the time ran out.
_etcd_wait_up() {
    local deadline=$((SECONDS + $1)) cv
    while ((SECONDS < deadline)); do
        kill -0 "$ETCD_PID" 2>/dev/null || return 1
        if etcd_ctl --command-timeout=2s endpoint health >/dev/null 2>&1; then
            cv="$(_etcd_cluster_version)"
            if [[ -n "$cv" && "$cv" != "not_decided" ]]; then
                _etcd_log "member up: pid $ETCD_PID, $ETCD_ENDPOINT, cluster version $cv, data $ETCD_DATA_DIR"
                return 0
            fi
        fi
        sleep 0.2
    done
    return 1
}

# etcd_start_on DIR [extra etcd flags...]: start one member on the existing data dir DIR (made by
# `etcdctl snapshot restore`, or a member's copy) on loopback free ports and wait until it is healthy.
# The member keeps the membership stored in DIR; the peer URL given here only sets where it listens.
# DIR is the caller's: etcd_stop deletes only the temp dir holding the log, never DIR.
etcd_start_on() {
    local dir="$1"
    shift
    if [[ ! -d "$dir/member" ]]; then
        _etcd_log "$dir: not an etcd data dir (no member/)"
        return 1
    fi
    etcd_stop --keep-data
    local parent="${ETCD_TMP_PARENT:-${TMPDIR:-/tmp}}" name="${ETCD_NAME:-autopsy-fixture}"
    local timeout="${ETCD_START_TIMEOUT:-60}" attempt
    for attempt in 1 2 3; do
        _ETCD_TMP="$(mktemp -d "$parent/etcd-on.XXXXXX")" || return 1
        _ETCD_TMPS+=("$_ETCD_TMP")
        export ETCD_DATA_DIR="$dir" ETCD_LOG="$_ETCD_TMP/etcd.log"
        _etcd_spawn "$name" "$(_etcd_free_ports 2)" "$@"
        _etcd_wait_up "$timeout" && return 0
        _etcd_log "attempt $attempt: etcd did not become healthy on $dir; last log lines:"
        tail -n 15 "$ETCD_LOG" >&2 || true
        etcd_stop --keep-data
    done
    _etcd_log "giving up starting etcd on $dir"
    return 1
}

# etcd_stop [--keep-data]: stop the member we started (TERM, then KILL after 15 s) and, unless
# --keep-data, delete every temp dir etcd_start made in this shell. Safe to call repeatedly and from an
# EXIT trap.
etcd_stop() {
    local keep=0
    [[ "${1:-}" == "--keep-data" ]] && keep=1
    if [[ -n "${ETCD_PID:-}" ]]; then
        if kill -0 "$ETCD_PID" 2>/dev/null; then
            kill -TERM "$ETCD_PID" 2>/dev/null || true
            local i
            for ((i = 0; i < 150; i++)); do
                kill -0 "$ETCD_PID" 2>/dev/null || break
                sleep 0.1
            done
            if kill -0 "$ETCD_PID" 2>/dev/null; then
                _etcd_log "etcd pid $ETCD_PID ignored TERM; sending KILL"
                kill -KILL "$ETCD_PID" 2>/dev/null || true
            fi
        fi
        wait "$ETCD_PID" 2>/dev/null || true
        unset ETCD_PID
    fi
    if ((!keep)); then
        local d
        for d in "${_ETCD_TMPS[@]}"; do
            [[ -n "$d" && -d "$d" ]] && rm -rf -- "$d"
        done
        _ETCD_TMPS=()
        unset _ETCD_TMP ETCD_DATA_DIR ETCD_LOG
    fi
    return 0
}
