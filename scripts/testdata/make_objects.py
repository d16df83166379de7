#!/usr/bin/env python3
"""Load objects of many kinds into a loopback etcd 3.4, written as kube-apiserver writes them, and
write the source objects (kubectl's JSON form) that a correct decoder must print.

    make_objects.py --endpoint http://127.0.0.1:PORT --schema src/kube/decode/schema.fds --out DIR

The encoder is independent of etcd-autopsy's Rust decoder: Python `protobuf` message classes built
from the FileDescriptorSet that protoc compiled from the published generated.proto files
(k8s.io/api, apimachinery, openshift/api; scripts/objects/make_schema.py). Each source object is
written in kubectl's JSON form; `to_proto` turns it into the message by walking the descriptor,
with apimachinery's JSON rules done here by hand from their Go sources:
Time/MicroTime (RFC 3339 → {seconds, nanos}, meta/v1/time_proto.go), IntOrString {type, intVal,
strVal} (util/intstr/intstr.go), Quantity {string} (api/resource/quantity_proto.go),
RawExtension/FieldsV1 {raw JSON} (runtime/types.go), `[]byte` base64, embedded Go structs
(`json:",inline"`: core/v1 Volume → VolumeSource). The stored value is `k8s\\x00` + runtime.Unknown
{typeMeta, raw, contentEncoding "", contentType ""} (runtime/serializer/protobuf/protobuf.go).
Custom resources and CRDs are stored as JSON with a trailing newline (serializer/json/json.go).

Writes DIR/objects.expected.json: [{key, revision, deleted_at?, object}], `object` with
metadata.resourceVersion = the revision etcd assigned (kube-apiserver sets it on read).
"""

import argparse
import base64
import calendar
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etcdgw import Gateway, Store  # noqa: E402

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # noqa: E402
from google.protobuf.descriptor import FieldDescriptor  # noqa: E402

META = "k8s.io.apimachinery.pkg.apis.meta.v1."
# Go structs embedded inline, from k8s.io/api core/v1 types.go (`VolumeSource `json:",inline"``).
INLINE = {"k8s.io.api.core.v1.Volume": "volumeSource",
          "k8s.io.api.core.v1.ConfigMapVolumeSource": "localObjectReference"}


def parse_time(s):
    frac = 0
    if "." in s:
        s, rest = s.split(".")
        frac = int(rest.rstrip("Z").ljust(9, "0")[:9])
        s += "Z"
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")), frac


def to_proto(cls_of, desc, obj):
    msg = cls_of(desc)()
    fill(cls_of, msg, obj)
    return msg


def fill(cls_of, msg, obj):
    d = msg.DESCRIPTOR
    name = d.full_name
    # gogo's marshallers write every non-pointer struct field, empty or not.
    msg.SetInParent()
    if obj is None:
        # A zero metav1.Time marshals as an empty message (time_proto.go), printed as null.
        return
    if name in (META + "Time", META + "MicroTime"):
        s, ns = parse_time(obj)
        msg.seconds, msg.nanos = s, ns
        return
    if name == "k8s.io.apimachinery.pkg.api.resource.Quantity":
        msg.string = obj
        return
    if name == "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
        if isinstance(obj, int):
            msg.type, msg.intVal = 0, obj
        else:
            msg.type, msg.strVal = 1, obj
        return
    if name in ("k8s.io.apimachinery.pkg.runtime.RawExtension",):
        msg.raw = json.dumps(obj, separators=(",", ":")).encode()
        return
    if name == META + "FieldsV1":
        msg.Raw = json.dumps(obj, separators=(",", ":")).encode()
        return
    inline = INLINE.get(name)
    for k, v in obj.items():
        f = d.fields_by_name.get(k)
        if f is None and inline:
            fill(cls_of, getattr(msg, inline), {k: v})
            continue
        if f is None:
            raise SystemExit(f"{name}: no field {k!r}")
        if f.message_type and f.message_type.GetOptions().map_entry:
            m = getattr(msg, k)
            vf = f.message_type.fields_by_name["value"]
            for mk, mv in v.items():
                if vf.type == FieldDescriptor.TYPE_BYTES:
                    m[mk] = base64.b64decode(mv)
                elif vf.message_type:
                    fill(cls_of, m[mk], mv)
                else:
                    m[mk] = mv
        elif f.is_repeated:
            for x in v:
                if f.message_type:
                    fill(cls_of, getattr(msg, k).add(), x)
                else:
                    getattr(msg, k).append(x)
        elif f.message_type:
            fill(cls_of, getattr(msg, k), v)
        elif f.type == FieldDescriptor.TYPE_BYTES:
            setattr(msg, k, base64.b64decode(v))
        else:
            setattr(msg, k, v)


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def ld(field, b):
    return varint(field << 3 | 2) + varint(len(b)) + b


def unknown(api_version, kind, raw):
    tm = ld(1, api_version.encode()) + ld(2, kind.encode())
    return b"k8s\x00" + ld(1, tm) + ld(2, raw) + ld(3, b"") + ld(4, b"")


PKG = {"v1": "k8s.io.api.core.v1", "apps/v1": "k8s.io.api.apps.v1",
       "coordination.k8s.io/v1": "k8s.io.api.coordination.v1",
       "rbac.authorization.k8s.io/v1": "k8s.io.api.rbac.v1",
       "route.openshift.io/v1": "github.com.openshift.api.route.v1"}


def meta(name, ns=None, uid="", created="2024-03-01T10:00:00Z", **extra):
    m = {"name": name}
    if ns:
        m["namespace"] = ns
    m["uid"] = uid
    m["creationTimestamp"] = created
    m.update(extra)
    return m


def objects():
    mf = [{"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "v1",
           "time": "2024-03-01T10:00:00Z", "fieldsType": "FieldsV1",
           "fieldsV1": {"f:data": {".": {}, "f:color": {}}}}]
    yield "/registry/namespaces/shop", {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": meta("shop", uid="0b6c5c39-1111-4a1e-9e8e-000000000001",
                         labels={"kubernetes.io/metadata.name": "shop"}),
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    yield "/registry/configmaps/shop/shop-settings", {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": meta("shop-settings", "shop", "0b6c5c39-1111-4a1e-9e8e-000000000002",
                         labels={"app": "web"}, managedFields=mf),
        "data": {"color": "blue", "mode": "on"}}
    yield "/registry/secrets/shop/db-password", {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": meta("db-password", "shop", "0b6c5c39-1111-4a1e-9e8e-000000000003", labels={"app": "db"}),
        "data": {"password": base64.b64encode(b"FIXTURE-SECRET-objects-hunter2").decode()},
        "type": "Opaque"}
    yield "/registry/deployments/shop/web", {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": meta("web", "shop", "0b6c5c39-1111-4a1e-9e8e-000000000004", generation=3,
                         labels={"app": "web"}, annotations={"deployment.kubernetes.io/revision": "2"}),
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                              "spec": {"volumes": [{"name": "cfg", "configMap": {"name": "shop-settings", "defaultMode": 420}}],
                                       "containers": [{"name": "web", "image": "nginx:1.25",
                                                       "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                                                       "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "250m"}},
                                                       "imagePullPolicy": "IfNotPresent"}],
                                       "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                                       "dnsPolicy": "ClusterFirst"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1}},
                 "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        "status": {"observedGeneration": 3, "conditions": [
            {"type": "Available", "status": "True", "lastUpdateTime": "2024-03-01T10:05:00Z",
             "lastTransitionTime": "2024-03-01T10:05:00Z", "reason": "MinimumReplicasAvailable",
             "message": "Deployment has minimum availability."}]}}
    yield "/registry/services/specs/shop/web", {
        "apiVersion": "v1", "kind": "Service",
        "metadata": meta("web", "shop", "0b6c5c39-1111-4a1e-9e8e-000000000005"),
        "spec": {"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http"},
                           {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": 9090}],
                 "selector": {"app": "web"}, "clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"],
                 "type": "ClusterIP", "sessionAffinity": "None"},
        "status": {"loadBalancer": {}}}
    yield "/registry/pods/shop/web-5d9c7b-abcde", {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": meta("web-5d9c7b-abcde", "shop", "0b6c5c39-1111-4a1e-9e8e-000000000006",
                         generateName="web-5d9c7b-", labels={"app": "web"},
                         ownerReferences=[{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d9c7b",
                                           "uid": "0b6c5c39-1111-4a1e-9e8e-000000000099", "controller": True,
                                           "blockOwnerDeletion": True}]),
        "spec": {"volumes": [{"name": "pw", "secret": {"secretName": "db-password", "defaultMode": 420}}],
                 "containers": [{"name": "web", "image": "nginx:1.25",
                                 "env": [{"name": "MODE", "value": "prod"}],
                                 "resources": {}, "terminationMessagePath": "/dev/termination-log",
                                 "imagePullPolicy": "IfNotPresent"}],
                 "nodeName": "node-1", "priority": 0,
                 "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                  "effect": "NoExecute", "tolerationSeconds": 300}]},
        "status": {"phase": "Running", "podIP": "10.244.1.7", "startTime": "2024-03-01T10:01:00Z"}}
    yield "/registry/events/shop/web.17b8f", {
        "apiVersion": "v1", "kind": "Event",
        "metadata": meta("web.17b8f", "shop", "0b6c5c39-1111-4a1e-9e8e-000000000007"),
        "involvedObject": {"kind": "Deployment", "namespace": "shop", "name": "web", "apiVersion": "apps/v1"},
        "reason": "ScalingReplicaSet", "message": "Scaled down replica set web-5d9c7b to 0",
        "source": {"component": "deployment-controller"},
        "firstTimestamp": "2024-03-01T10:06:00Z", "lastTimestamp": "2024-03-01T10:06:00Z",
        "count": 1, "type": "Normal", "eventTime": None, "reportingComponent": "", "reportingInstance": ""}
    yield "/registry/leases/kube-system/kube-scheduler", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": meta("kube-scheduler", "kube-system", "0b6c5c39-1111-4a1e-9e8e-000000000008"),
        "spec": {"holderIdentity": "master-1_5f1c", "leaseDurationSeconds": 15,
                 "acquireTime": "2024-03-01T09:00:00.000000Z", "renewTime": "2024-03-01T10:06:31.123456Z",
                 "leaseTransitions": 2}}
    yield "/registry/clusterroles/shop-reader", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": meta("shop-reader", uid="0b6c5c39-1111-4a1e-9e8e-000000000009"),
        "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["configmaps"]}]}
    yield "/registry/rolebindings/shop/readers", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": meta("readers", "shop", "0b6c5c39-1111-4a1e-9e8e-000000000010"),
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "shop"}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "shop-reader"}}
    yield "/openshift.io/routes/shop/web", {
        "apiVersion": "route.openshift.io/v1", "kind": "Route",
        "metadata": meta("web", "shop", "0b6c5c39-1111-4a1e-9e8e-000000000011"),
        "spec": {"host": "web-shop.apps.example.com", "to": {"kind": "Service", "name": "web", "weight": 100},
                 "port": {"targetPort": "http"}, "tls": {"termination": "edge"}, "wildcardPolicy": "None"},
        "status": {"ingress": [{"host": "web-shop.apps.example.com", "routerName": "default",
                                "conditions": [{"type": "Admitted", "status": "True",
                                                "lastTransitionTime": "2024-03-01T10:02:00Z"}],
                                "wildcardPolicy": "None"}]}}
    yield "/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com", {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": meta("widgets.example.com", uid="0b6c5c39-1111-4a1e-9e8e-000000000012"),
        "spec": {"group": "example.com", "names": {"plural": "widgets", "singular": "widget", "kind": "Widget",
                                                    "listKind": "WidgetList"},
                 "scope": "Namespaced",
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]}}
    yield "/registry/example.com/widgets/shop/blue", {
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": meta("blue", "shop", "0b6c5c39-1111-4a1e-9e8e-000000000013", generation=1),
        "spec": {"size": 3, "color": "blue"}}


JSON_KINDS = {"CustomResourceDefinition", "Widget"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--schema", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    fds = descriptor_pb2.FileDescriptorSet()
    with open(a.schema, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    cls_of = message_factory.GetMessageClass
    st = Store(Gateway(a.endpoint))
    expected = []

    def put(key, obj):
        if obj["kind"] in JSON_KINDS:
            value = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        else:
            desc = pool.FindMessageTypeByName(f"{PKG[obj['apiVersion']]}.{obj['kind']}")
            body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
            raw = to_proto(cls_of, desc, body).SerializeToString(deterministic=True)
            value = unknown(obj["apiVersion"], obj["kind"], raw)
        rev = st.put(key.encode(), value)
        want = json.loads(json.dumps(obj))
        want["metadata"]["resourceVersion"] = str(rev)
        return rev, want

    for key, obj in objects():
        rev, want = put(key, obj)
        expected.append({"key": key, "revision": rev, "object": want})
    # History: the ConfigMap changes (revision R1 → R2); `get --revision R1` must show the old data.
    cm = dict(next(o for k, o in objects() if k == "/registry/configmaps/shop/shop-settings"))
    cm["data"] = {"color": "green", "mode": "on"}
    rev, want = put("/registry/configmaps/shop/shop-settings", cm)
    for e in expected:
        if e["key"] == "/registry/configmaps/shop/shop-settings":
            e["history"] = [{"revision": e["revision"], "object": e["object"]}]
            e["revision"], e["object"] = rev, want
    # A deleted object: `get --deleted` shows its last value, `export --deleted` brings it back.
    gone = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": meta("gone", "shop", "0b6c5c39-1111-4a1e-9e8e-000000000014"), "data": {"k": "v"}}
    rev, want = put("/registry/configmaps/shop/gone", gone)
    deleted_at = st.delete(b"/registry/configmaps/shop/gone")
    expected.append({"key": "/registry/configmaps/shop/gone", "revision": rev, "object": want,
                     "deleted_at": deleted_at if isinstance(deleted_at, int) else st.rev})
    with open(os.path.join(a.out, "objects.expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
