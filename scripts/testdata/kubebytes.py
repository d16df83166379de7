"""Build the bytes kube-apiserver stores in etcd, by hand, without Kubernetes libraries.

Protobuf objects are `k8s\\x00` + runtime.Unknown (proto2, k8s.io/apimachinery/pkg/runtime/generated.proto):
    1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the object's own protobuf), 3 contentEncoding, 4 contentType
(k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go). kube's gogo-generated marshallers write
non-pointer strings and ints even when empty/zero, so typeMeta, contentEncoding "" and contentType "" are
always present; we copy that habit for ObjectMeta too.

The inner objects follow the field numbers of k8s.io/api/*/generated.proto for the fields we fill in
(metadata, a few spec/status fields). They are plausible, not complete: no managedFields, fewer defaults.

Custom resources (and CRDs) are stored as JSON: compact, keys in struct/insertion order, trailing newline
(k8s.io/apimachinery/pkg/runtime/serializer/json/json.go encodes with json.Encoder, which appends "\\n").

Everything is deterministic given the caller's random.Random.
"""

import json
import uuid

PROTO_MAGIC = b"k8s\x00"

# ---------------------------------------------------------------------------------------------------------
# protobuf wire encoding


def varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64  # int64/int32 negatives are 10-byte two's complement varints
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(field: int, n: int) -> bytes:
    return varint(field << 3) + varint(n)


def f_bytes(field: int, b: bytes) -> bytes:
    return varint((field << 3) | 2) + varint(len(b)) + b


def f_str(field: int, s: str) -> bytes:
    return f_bytes(field, s.encode())


def f_map(field: int, m: dict) -> bytes:
    """map<string, string|bytes>: repeated entry {1 key, 2 value}, keys sorted like gogo's marshaller."""
    out = b""
    for k in sorted(m):
        v = m[k]
        v = v if isinstance(v, bytes) else v.encode()
        out += f_bytes(field, f_str(1, k) + f_bytes(2, v))
    return out


def time_msg(seconds: int, nanos: int = 0) -> bytes:
    """metav1.Time / MicroTime: {1 seconds int64, 2 nanos int32}."""
    return f_varint(1, seconds) + f_varint(2, nanos)


# ---------------------------------------------------------------------------------------------------------
# envelopes


def unknown(api_version: str, kind: str, raw: bytes) -> bytes:
    """`k8s\\x00` + runtime.Unknown{typeMeta, raw, contentEncoding "", contentType ""}."""
    type_meta = f_str(1, api_version) + f_str(2, kind)
    return PROTO_MAGIC + f_bytes(1, type_meta) + f_bytes(2, raw) + f_str(3, "") + f_str(4, "")


def json_object(obj: dict) -> bytes:
    return (json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


# ---------------------------------------------------------------------------------------------------------
# metadata


def new_uid(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def object_meta(name, namespace="", uid="", created=0, labels=None, annotations=None, generation=0,
                owner=None, generate_name="") -> bytes:
    """metav1.ObjectMeta: 1 name, 2 generateName, 3 namespace, 4 selfLink, 5 uid, 6 resourceVersion,
    7 generation, 8 creationTimestamp, 11 labels, 12 annotations, 13 ownerReferences.
    resourceVersion and selfLink are empty in etcd: the apiserver clears them before writing."""
    b = (f_str(1, name) + f_str(2, generate_name) + f_str(3, namespace) + f_str(4, "") + f_str(5, uid)
         + f_str(6, "") + f_varint(7, generation) + f_bytes(8, time_msg(created)))
    b += f_map(11, labels or {})
    b += f_map(12, annotations or {})
    if owner:
        # OwnerReference: 1 kind, 3 name, 4 uid, 5 apiVersion, 6 controller, 7 blockOwnerDeletion
        kind, oname, ouid, oapi = owner
        b += f_bytes(13, f_str(1, kind) + f_str(3, oname) + f_str(4, ouid) + f_str(5, oapi)
                     + f_varint(6, 1) + f_varint(7, 1))
    return b


def json_meta(name, namespace, uid, created_iso, generation=1, labels=None) -> dict:
    m = {"creationTimestamp": created_iso, "generation": generation}
    if labels:
        m["labels"] = labels
    m["name"] = name
    if namespace:
        m["namespace"] = namespace
    m["uid"] = uid
    return m


# ---------------------------------------------------------------------------------------------------------
# core/v1 and friends


def secret(meta: bytes, data: dict, type_: str = "Opaque") -> bytes:
    """core/v1 Secret: 1 metadata, 2 data map<string,bytes>, 3 type."""
    return unknown("v1", "Secret", f_bytes(1, meta) + f_map(2, data) + f_str(3, type_))


def configmap(meta: bytes, data: dict) -> bytes:
    """core/v1 ConfigMap: 1 metadata, 2 data map<string,string>."""
    return unknown("v1", "ConfigMap", f_bytes(1, meta) + f_map(2, data))


def serviceaccount(meta: bytes, secret_names=()) -> bytes:
    """core/v1 ServiceAccount: 1 metadata, 2 secrets []ObjectReference{3 name}."""
    raw = f_bytes(1, meta) + b"".join(f_bytes(2, f_str(3, n)) for n in secret_names)
    return unknown("v1", "ServiceAccount", raw)


def namespace(meta: bytes, phase="Active") -> bytes:
    """core/v1 Namespace: 1 metadata, 2 spec{1 finalizers}, 3 status{1 phase}."""
    return unknown("v1", "Namespace", f_bytes(1, meta) + f_bytes(2, f_str(1, "kubernetes")) + f_bytes(3, f_str(1, phase)))


def container(name: str, image: str, port: int = 0) -> bytes:
    """Container: 1 name, 2 image, 6 ports{3 containerPort, 4 protocol}, 14 imagePullPolicy,
    13 terminationMessagePath, 20 terminationMessagePolicy."""
    b = f_str(1, name) + f_str(2, image)
    if port:
        b += f_bytes(6, f_varint(3, port) + f_str(4, "TCP"))
    b += f_str(13, "/dev/termination-log") + f_str(14, "IfNotPresent") + f_str(20, "File")
    return b


def pod_spec(containers: list, node: str = "", sa: str = "default") -> bytes:
    """PodSpec: 2 containers, 3 restartPolicy, 4 terminationGracePeriodSeconds, 6 dnsPolicy,
    8 serviceAccountName, 9 serviceAccount, 10 nodeName, 19 schedulerName."""
    b = b"".join(f_bytes(2, c) for c in containers)
    b += f_str(3, "Always") + f_varint(4, 30) + f_str(6, "ClusterFirst") + f_str(8, sa) + f_str(9, sa)
    b += f_str(10, node) + f_str(19, "default-scheduler")
    return b


def pod(meta: bytes, spec: bytes, phase: str, host_ip: str = "", pod_ip: str = "", started: int = 0) -> bytes:
    """core/v1 Pod: 1 metadata, 2 spec, 3 status{1 phase, 5 hostIP, 6 podIP, 7 startTime}."""
    status = f_str(1, phase) + f_str(5, host_ip) + f_str(6, pod_ip)
    if started:
        status += f_bytes(7, time_msg(started))
    return unknown("v1", "Pod", f_bytes(1, meta) + f_bytes(2, spec) + f_bytes(3, status))


def node(meta: bytes, pod_cidr: str, internal_ip: str, hostname: str, kubelet: str, ready: bool = True) -> bytes:
    """core/v1 Node: 1 metadata, 2 spec{1 podCIDR}, 3 status{4 conditions, 5 addresses, 7 nodeInfo}."""
    cond = f_str(1, "Ready") + f_str(2, "True" if ready else "Unknown") + f_str(5, "KubeletReady")
    addrs = f_bytes(5, f_str(1, "InternalIP") + f_str(2, internal_ip)) + f_bytes(5, f_str(1, "Hostname") + f_str(2, hostname))
    info = f_str(5, "Debian GNU/Linux 12 (bookworm)") + f_str(6, "containerd://1.7.13") + f_str(7, kubelet) \
        + f_str(8, kubelet) + f_str(9, "linux") + f_str(10, "amd64")
    status = f_bytes(4, cond) + addrs + f_bytes(7, info)
    return unknown("v1", "Node", f_bytes(1, meta) + f_bytes(2, f_str(1, pod_cidr)) + f_bytes(3, status))


def service(meta: bytes, cluster_ip: str, ports: list, selector: dict, type_: str = "ClusterIP") -> bytes:
    """core/v1 Service: 1 metadata, 2 spec{1 ports{1 name, 2 protocol, 3 port, 4 targetPort
    IntOrString{1 type, 2 intVal}}, 2 selector, 3 clusterIP, 4 type}, 3 status."""
    spec = b""
    for name, port, target in ports:
        spec += f_bytes(1, f_str(1, name) + f_str(2, "TCP") + f_varint(3, port)
                        + f_bytes(4, f_varint(1, 0) + f_varint(2, target)))
    spec += f_map(2, selector) + f_str(3, cluster_ip) + f_str(4, type_)
    return unknown("v1", "Service", f_bytes(1, meta) + f_bytes(2, spec) + f_bytes(3, b""))


def endpoints(meta: bytes, addresses: list, ports: list) -> bytes:
    """core/v1 Endpoints: 1 metadata, 2 subsets{1 addresses{1 ip, 4 nodeName}, 3 ports{1 name, 2 port,
    3 protocol}}."""
    subset = b"".join(f_bytes(1, f_str(1, ip) + f_str(4, n)) for ip, n in addresses)
    subset += b"".join(f_bytes(3, f_str(1, name) + f_varint(2, port) + f_str(3, "TCP")) for name, port in ports)
    return unknown("v1", "Endpoints", f_bytes(1, meta) + (f_bytes(2, subset) if addresses else b""))


def event(meta: bytes, involved: tuple, reason: str, message: str, component: str, host: str,
          first: int, last: int, count: int, type_: str = "Normal") -> bytes:
    """core/v1 Event: 1 metadata, 2 involvedObject{1 kind, 2 namespace, 3 name, 4 uid, 5 apiVersion},
    3 reason, 4 message, 5 source{1 component, 2 host}, 6 firstTimestamp, 7 lastTimestamp, 8 count,
    9 type."""
    kind, ns, name, uid = involved
    obj = f_str(1, kind) + f_str(2, ns) + f_str(3, name) + f_str(4, uid) + f_str(5, "v1")
    raw = (f_bytes(1, meta) + f_bytes(2, obj) + f_str(3, reason) + f_str(4, message)
           + f_bytes(5, f_str(1, component) + f_str(2, host)) + f_bytes(6, time_msg(first))
           + f_bytes(7, time_msg(last)) + f_varint(8, count) + f_str(9, type_))
    return unknown("v1", "Event", raw)


def range_allocation(meta: bytes, range_: str, data: bytes) -> bytes:
    """core/v1 RangeAllocation (/registry/ranges/...): 1 metadata, 2 range, 3 data."""
    return unknown("v1", "RangeAllocation", f_bytes(1, meta) + f_str(2, range_) + f_bytes(3, data))


def lease(meta: bytes, holder: str, duration: int, acquire: int, renew: int, transitions: int = 0) -> bytes:
    """coordination.k8s.io/v1 Lease: 1 metadata, 2 spec{1 holderIdentity, 2 leaseDurationSeconds,
    3 acquireTime, 4 renewTime, 5 leaseTransitions}."""
    spec = (f_str(1, holder) + f_varint(2, duration) + f_bytes(3, time_msg(acquire))
            + f_bytes(4, time_msg(renew, 123456000)) + f_varint(5, transitions))
    return unknown("coordination.k8s.io/v1", "Lease", f_bytes(1, meta) + f_bytes(2, spec))


def pod_template(labels: dict, containers: list) -> bytes:
    """PodTemplateSpec: 1 metadata (labels only), 2 spec."""
    return f_bytes(1, object_meta("", labels=labels)) + f_bytes(2, pod_spec(containers))


def deployment(meta: bytes, replicas: int, labels: dict, containers: list, ready: int, observed: int) -> bytes:
    """apps/v1 Deployment: 1 metadata, 2 spec{1 replicas, 2 selector{1 matchLabels}, 3 template,
    6 revisionHistoryLimit}, 3 status{1 observedGeneration, 2 replicas, 3 updatedReplicas,
    4 availableReplicas, 7 readyReplicas}."""
    spec = (f_varint(1, replicas) + f_bytes(2, f_map(1, labels)) + f_bytes(3, pod_template(labels, containers))
            + f_varint(6, 10))
    status = f_varint(1, observed) + f_varint(2, replicas) + f_varint(3, replicas) + f_varint(4, ready) + f_varint(7, ready)
    return unknown("apps/v1", "Deployment", f_bytes(1, meta) + f_bytes(2, spec) + f_bytes(3, status))


def replicaset(meta: bytes, replicas: int, labels: dict, containers: list, ready: int) -> bytes:
    """apps/v1 ReplicaSet: 1 metadata, 2 spec{1 replicas, 2 selector, 3 template},
    3 status{1 replicas, 4 readyReplicas}."""
    spec = f_varint(1, replicas) + f_bytes(2, f_map(1, labels)) + f_bytes(3, pod_template(labels, containers))
    return unknown("apps/v1", "ReplicaSet", f_bytes(1, meta) + f_bytes(2, spec) + f_bytes(3, f_varint(1, replicas) + f_varint(4, ready)))


def replication_controller(meta: bytes, replicas: int, labels: dict, containers: list) -> bytes:
    """core/v1 ReplicationController: 1 metadata, 2 spec{1 replicas, 2 selector map, 4 template},
    3 status{1 replicas}."""
    spec = f_varint(1, replicas) + f_map(2, labels) + f_bytes(4, pod_template(labels, containers))
    return unknown("v1", "ReplicationController", f_bytes(1, meta) + f_bytes(2, spec) + f_bytes(3, f_varint(1, replicas)))
