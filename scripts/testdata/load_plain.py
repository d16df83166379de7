#!/usr/bin/env python3
"""Fill a fresh loopback etcd with a realistic, unencrypted Kubernetes keyspace and write a facts file.

    load_plain.py basic   --endpoint http://127.0.0.1:PORT --facts basic.facts.json
    load_plain.py empty   --endpoint ... --facts empty.facts.json        (writes nothing)
    load_plain.py nospace --endpoint ... --facts nospace.facts.json      (fills until NOSPACE)

The facts describe what the loader did and what etcd must therefore hold (see etcdgw.Store); they are
computed here, never by etcd-autopsy. Fixed seeds, fixed timestamps and a fixed write order make the
revisions, keys, values and lease IDs the same on every run.
"""

import argparse
import base64
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kubebytes as kb  # noqa: E402
from etcdgw import Gateway, GatewayError, Store  # noqa: E402

SEED = 20240314
T0 = 1710403200  # 2024-03-14T08:00:00Z: creation time of the fixture cluster
SECRET_MARKER = "FIXTURE-SECRET-"  # every Secret data value starts with this; tests grep outputs for it
KUBELET = "v1.28.7"

NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease", "cert-manager", "ingress-nginx", "logging",
              "monitoring", "payments", "team-a", "team-b", "team-c"]
NODES = [("master-0", "10.0.0.10"), ("master-1", "10.0.0.11"), ("master-2", "10.0.0.12"),
         ("worker-0", "10.0.1.20"), ("worker-1", "10.0.1.21"), ("worker-2", "10.0.1.22")]
# (namespace, name, image, replicas, port)
APPS = [
    ("kube-system", "coredns", "registry.k8s.io/coredns/coredns:v1.10.1", 2, 53),
    ("kube-system", "metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.0", 1, 4443),
    ("monitoring", "prometheus-operator", "quay.io/prometheus-operator/prometheus-operator:v0.71.2", 1, 8080),
    ("monitoring", "grafana", "docker.io/grafana/grafana:10.3.3", 1, 3000),
    ("monitoring", "kube-state-metrics", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.10.1", 1, 8080),
    ("payments", "api", "registry.example.com/payments/api:2.14.0", 3, 8443),
    ("payments", "worker", "registry.example.com/payments/worker:2.14.0", 4, 9000),
    ("payments", "ledger", "registry.example.com/payments/ledger:1.9.3", 2, 5432),
    ("team-a", "frontend", "registry.example.com/team-a/frontend:5.2.1", 3, 8080),
    ("team-a", "backend", "registry.example.com/team-a/backend:5.2.1", 3, 8080),
    ("team-a", "cache", "docker.io/library/redis:7.2.4", 1, 6379),
    ("team-b", "batch-runner", "registry.example.com/team-b/batch:0.33.0", 2, 8080),
    ("team-b", "reports", "registry.example.com/team-b/reports:0.12.5", 1, 8080),
    ("default", "hello", "docker.io/library/nginx:1.25.4", 2, 80),
    ("default", "echo", "registry.k8s.io/echoserver:1.10", 1, 8080),
    ("team-a", "notifier", "registry.example.com/team-a/notifier:1.0.7", 1, 8080),
    ("ingress-nginx", "ingress-nginx-controller", "registry.k8s.io/ingress-nginx/controller:v1.10.0", 2, 443),
    ("cert-manager", "cert-manager", "quay.io/jetstack/cert-manager-controller:v1.14.4", 1, 9402),
    ("cert-manager", "cert-manager-webhook", "quay.io/jetstack/cert-manager-webhook:v1.14.4", 1, 10250),
    ("cert-manager", "cert-manager-cainjector", "quay.io/jetstack/cert-manager-cainjector:v1.14.4", 1, 9402),
    ("logging", "loki", "docker.io/grafana/loki:2.9.5", 1, 3100),
    ("team-c", "api", "registry.example.com/team-c/api:3.0.1", 3, 8080),
    ("team-c", "web", "registry.example.com/team-c/web:3.0.1", 2, 8080),
]


def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def suffix(rng, n=5):
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


def fake_cert(rng, cn, lines=20):
    body = "\n".join(base64.b64encode(rng.randbytes(48)).decode() for _ in range(lines))
    return f"# {cn}\n-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


def crd_widgets(rng, uid, target_size):
    """A CustomResourceDefinition with a big openAPIV3Schema, as real CRDs have; padded to ~target_size."""
    props = {}
    i = 0
    while True:
        props[f"field{i:04d}"] = {
            "description": f"field{i:04d} configures part {i} of the widget. " + " ".join(
                rng.choice(["The", "value", "is", "merged", "into", "the", "status", "when", "reconciled",
                            "by", "controller", "and", "must", "be", "a", "valid", "DNS-1123", "label"])
                for _ in range(18)) + ".",
            "type": rng.choice(["string", "integer", "boolean"]),
        }
        i += 1
        if i % 20 == 0 and len(json.dumps(props)) > target_size - 1500:
            break
    return {
        "kind": "CustomResourceDefinition", "apiVersion": "apiextensions.k8s.io/v1",
        "metadata": {"name": "widgets.example.com", "uid": uid, "generation": 1,
                     "creationTimestamp": iso(T0 + 600)},
        "spec": {"group": "example.com",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                 "scope": "Namespaced",
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                   "spec": {"type": "object", "properties": props}}}}}],
                 "conversion": {"strategy": "None"}},
        "status": {"conditions": [{"type": "Established", "status": "True", "lastTransitionTime": iso(T0 + 601),
                                   "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}],
                   "acceptedNames": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                   "storedVersions": ["v1"]},
    }


def widget(rng, ns, name, uid, created, size, generation=1):
    return kb.json_object({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": kb.json_meta(name, ns, uid, iso(created), generation, {"app": "widgets"}),
        "spec": {"size": size, "color": rng.choice(["red", "green", "blue"]), "replicas": rng.randint(1, 5)},
        "status": {"phase": "Ready", "observedGeneration": generation},
    })


def load_basic(st: Store):
    rng = random.Random(SEED)
    ns_uid = {ns: kb.new_uid(rng) for ns in NAMESPACES}
    t = T0
    big = {}

    # -- cluster-scoped basics -------------------------------------------------------------------------
    for ns in NAMESPACES:
        meta = kb.object_meta(ns, uid=ns_uid[ns], created=T0, labels={"kubernetes.io/metadata.name": ns})
        st.put(f"/registry/namespaces/{ns}".encode(), kb.namespace(meta))
    svc_alloc = kb.range_allocation(kb.object_meta("", created=T0), "10.96.0.0/12", rng.randbytes(64))
    st.put(b"/registry/ranges/serviceips", svc_alloc)
    st.put(b"/registry/ranges/servicenodeports",
           kb.range_allocation(kb.object_meta("", created=T0), "30000-32767", rng.randbytes(32)))

    node_uid = {}
    for i, (n, ip) in enumerate(NODES):
        node_uid[n] = kb.new_uid(rng)
        labels = {"kubernetes.io/hostname": n, "kubernetes.io/os": "linux"}
        if n.startswith("master"):
            labels["node-role.kubernetes.io/control-plane"] = ""
        meta = kb.object_meta(n, uid=node_uid[n], created=T0 + 10 * i, labels=labels)
        st.put(f"/registry/minions/{n}".encode(), kb.node(meta, f"10.244.{i}.0/24", ip, n, KUBELET))

    # node Lease objects, each attached to its own etcd lease (IDs fixed so they are the same every run)
    node_lease_id = {}
    for i, (n, _) in enumerate(NODES):
        lid = 0x694D8C3A1F2E0000 + 0x101 * (i + 1)
        node_lease_id[n] = lid
        st.lease_grant(lid, 7200)
    lease_uid = {n: kb.new_uid(rng) for n, _ in NODES}

    def put_node_lease(n, renew):
        meta = kb.object_meta(n, "kube-node-lease", lease_uid[n], T0 + 60,
                              owner=("Node", n, node_uid[n], "v1"))
        st.put(f"/registry/leases/kube-node-lease/{n}".encode(),
               kb.lease(meta, n, 40, T0 + 60, renew), lease=node_lease_id[n])

    for n, _ in NODES:
        put_node_lease(n, T0 + 70)

    # -- CRD (the ~100 KiB value) ------------------------------------------------------------------------
    crd = kb.json_object(crd_widgets(rng, kb.new_uid(rng), 100 * 1024))
    k = b"/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com"
    st.put(k, crd)
    big[k] = len(crd)

    # -- namespaced: service accounts, secrets, configmaps ------------------------------------------------
    ca = fake_cert(rng, "kubernetes", 16)
    sa_names = {}
    for ns in NAMESPACES:
        sas = ["default"] + (["builder", "deployer"] if ns not in ("kube-node-lease", "kube-public") else [])
        if ns == "kube-system":
            sas += ["coredns", "kube-proxy", "metrics-server", "attachdetach-controller", "bootstrap-signer",
                    "certificate-controller", "clusterrole-aggregation-controller", "cronjob-controller",
                    "daemon-set-controller", "deployment-controller", "disruption-controller",
                    "endpoint-controller", "generic-garbage-collector", "horizontal-pod-autoscaler",
                    "job-controller", "namespace-controller", "node-controller", "pv-protection-controller",
                    "replicaset-controller", "replication-controller", "resourcequota-controller",
                    "service-account-controller", "statefulset-controller", "token-cleaner", "ttl-controller"]
        sa_names[ns] = sas
        for sa in sas:
            tok = f"{sa}-token-{suffix(rng)}"
            meta = kb.object_meta(sa, ns, kb.new_uid(rng), T0 + 5)
            st.put(f"/registry/serviceaccounts/{ns}/{sa}".encode(), kb.serviceaccount(meta, [tok]))
            smeta = kb.object_meta(tok, ns, kb.new_uid(rng), T0 + 5,
                                   annotations={"kubernetes.io/service-account.name": sa,
                                                "kubernetes.io/service-account.uid": kb.new_uid(rng)})
            data = {"ca.crt": ca.encode(), "namespace": ns.encode(),
                    "token": (SECRET_MARKER + "token-" + base64.urlsafe_b64encode(rng.randbytes(180)).decode()).encode()}
            st.put(f"/registry/secrets/{ns}/{tok}".encode(),
                   kb.secret(smeta, data, "kubernetes.io/service-account-token"))
        # root CA configmap in every namespace, like kube-controller-manager publishes it
        meta = kb.object_meta("kube-root-ca.crt", ns, kb.new_uid(rng), T0 + 5)
        st.put(f"/registry/configmaps/{ns}/kube-root-ca.crt".encode(), kb.configmap(meta, {"ca.crt": ca}))

    opaque = {
        "default": ["registry-pull", "demo-credentials"],
        "kube-system": ["bootstrap-token-abcdef", "etcd-client-cert", "cloud-config", "sh.helm.release.v1.metrics-server.v1"],
        "monitoring": ["grafana-admin", "alertmanager-config", "prometheus-tls", "thanos-objstore"],
        "payments": ["db-credentials", "stripe-api", "api-tls", "ledger-keys", "sh.helm.release.v1.api.v1",
                     "sh.helm.release.v1.api.v2"],
        "team-a": ["frontend-tls", "backend-db", "cache-password", "oauth-client"],
        "team-b": ["old-token", "batch-s3", "reports-smtp"],
        "team-c": ["api-tls", "api-db", "web-session-key"],
        "cert-manager": ["cert-manager-webhook-ca", "letsencrypt-prod-account-key", "wildcard-example-com-tls"],
        "ingress-nginx": ["ingress-nginx-admission", "default-ssl-cert"],
        "logging": ["loki-s3", "promtail-basic-auth"],
    }
    secret_keys = []
    for ns, names in opaque.items():
        for name in names:
            typ = "kubernetes.io/tls" if name.endswith("tls") or name.endswith("cert") else "Opaque"
            if typ == "kubernetes.io/tls":
                data = {"tls.crt": fake_cert(rng, name, 12).encode(),
                        "tls.key": (SECRET_MARKER + "tls-key-" + base64.b64encode(rng.randbytes(96)).decode()).encode()}
            else:
                data = {"password": (SECRET_MARKER + name + "-" + rng.randbytes(9).hex()).encode(),
                        "username": f"svc-{name}".encode()}
            meta = kb.object_meta(name, ns, kb.new_uid(rng), T0 + 900)
            k = f"/registry/secrets/{ns}/{name}".encode()
            st.put(k, kb.secret(meta, data, typ))
            secret_keys.append(k)

    cm_names = {
        "kube-system": ["coredns", "kube-proxy", "kubeadm-config", "kubelet-config", "cluster-info",
                        "extension-apiserver-authentication", "kube-apiserver-legacy-service-account-token-tracking"],
        "kube-public": ["cluster-info"],
        "monitoring": ["prometheus-rules", "grafana-dashboards", "grafana-datasources", "alertmanager-templates",
                       "blackbox-exporter"],
        "payments": ["api-config", "worker-config", "ledger-config", "feature-flags"],
        "team-a": ["frontend-config", "backend-config", "nginx-conf"],
        "team-b": ["batch-config", "reports-templates", "cron-schedule", "report-queries", "smtp-settings"],
        "default": ["hello-html"],
        "team-c": ["api-config", "web-config"],
        "ingress-nginx": ["ingress-nginx-controller"],
        "logging": ["loki-config", "promtail-config"],
        "cert-manager": ["cert-manager-config"],
    }
    cm_keys = []
    for ns, names in cm_names.items():
        for name in names:
            data = {f"key{j}": " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"])
                                        for _ in range(rng.randint(4, 40))) for j in range(rng.randint(1, 4))}
            meta = kb.object_meta(name, ns, kb.new_uid(rng), T0 + 950)
            k = f"/registry/configmaps/{ns}/{name}".encode()
            st.put(k, kb.configmap(meta, data))
            cm_keys.append(k)
    # the ~20 KiB value: a CA bundle, as trusted-ca-bundle configmaps are
    bundle = "".join(fake_cert(rng, f"Example Root CA {i}", 20) for i in range(15))
    while len(bundle) < 20 * 1024 - 600:
        bundle += fake_cert(rng, "Example Intermediate CA", 4)
    meta = kb.object_meta("trusted-ca-bundle", "kube-public", kb.new_uid(rng), T0 + 960)
    k = b"/registry/configmaps/kube-public/trusted-ca-bundle"
    v = kb.configmap(meta, {"ca-bundle.crt": bundle})
    st.put(k, v)
    big[k] = len(v)

    # -- services, endpoints, workloads -----------------------------------------------------------------
    svcs = [("default", "kubernetes", 443, 6443, {}), ("kube-system", "kube-dns", 53, 53, {"k8s-app": "kube-dns"})]
    for ns, name, _, replicas, port in APPS:
        if name in ("coredns",):
            continue
        svcs.append((ns, name, port, port, {"app": name}))
    for i, (ns, name, port, target, sel) in enumerate(svcs):
        cip = "10.96.0.1" if name == "kubernetes" else f"10.96.{i // 200}.{10 + i}"
        meta = kb.object_meta(name, ns, kb.new_uid(rng), T0 + 20 + i, labels=sel or {"component": "apiserver"})
        st.put(f"/registry/services/specs/{ns}/{name}".encode(), kb.service(meta, cip, [("http", port, target)], sel))

    deploy_uid, rs_names, pod_keys, pod_info = {}, {}, [], {}
    for i, (ns, name, image, replicas, port) in enumerate(APPS):
        labels = {"app": name}
        ctrs = [kb.container(name, image, port)]
        deploy_uid[(ns, name)] = kb.new_uid(rng)
        meta = kb.object_meta(name, ns, deploy_uid[(ns, name)], T0 + 1000 + i, labels, generation=1,
                              annotations={"deployment.kubernetes.io/revision": "1"})
        st.put(f"/registry/deployments/{ns}/{name}".encode(), kb.deployment(meta, replicas, labels, ctrs, 0, 1))
        rs = f"{name}-{rng.randbytes(5).hex()[:9]}"
        rs_names[(ns, name)] = rs
        rs_uid = kb.new_uid(rng)
        meta = kb.object_meta(rs, ns, rs_uid, T0 + 1001 + i, labels, generation=1,
                              owner=("Deployment", name, deploy_uid[(ns, name)], "apps/v1"))
        st.put(f"/registry/replicasets/{ns}/{rs}".encode(), kb.replicaset(meta, replicas, labels, ctrs, 0))
        # a few spare replicas of history-free pods, spread over the workers
        for r in range(replicas * 2 if ns in ("payments", "team-a") else replicas):
            pname = f"{rs}-{suffix(rng)}"
            node_name = NODES[3 + (len(pod_keys) % 3)][0]
            pmeta = kb.object_meta(pname, ns, kb.new_uid(rng), T0 + 1010 + len(pod_keys), labels,
                                   owner=("ReplicaSet", rs, rs_uid, "apps/v1"), generate_name=rs + "-")
            k = f"/registry/pods/{ns}/{pname}".encode()
            pod_info[k] = (pmeta, ctrs, node_name, f"10.244.{3 + len(pod_keys) % 3}.{10 + len(pod_keys)}")
            st.put(k, kb.pod(pmeta, kb.pod_spec(ctrs, node_name), "Pending"))
            pod_keys.append(k)
    # control-plane static pods
    for n, ip in NODES[:3]:
        for comp, image in (("etcd", "registry.k8s.io/etcd:3.5.10-0"),
                            ("kube-apiserver", f"registry.k8s.io/kube-apiserver:{KUBELET}"),
                            ("kube-controller-manager", f"registry.k8s.io/kube-controller-manager:{KUBELET}"),
                            ("kube-scheduler", f"registry.k8s.io/kube-scheduler:{KUBELET}")):
            pname = f"{comp}-{n}"
            ctrs = [kb.container(comp, image)]
            pmeta = kb.object_meta(pname, "kube-system", kb.new_uid(rng), T0 + 3, {"component": comp, "tier": "control-plane"},
                                   owner=("Node", n, node_uid[n], "v1"))
            k = f"/registry/pods/kube-system/{pname}".encode()
            pod_info[k] = (pmeta, ctrs, n, ip)
            st.put(k, kb.pod(pmeta, kb.pod_spec(ctrs, n), "Running", ip, ip, T0 + 4))
            pod_keys.append(k)

    for ns, name in (("default", "legacy-web"), ("team-b", "old-batch"), ("monitoring", "node-exporter-rc")):
        labels = {"app": name}
        meta = kb.object_meta(name, ns, kb.new_uid(rng), T0 + 1200, labels, generation=1)
        st.put(f"/registry/controllers/{ns}/{name}".encode(),
               kb.replication_controller(meta, 1, labels, [kb.container(name, "docker.io/library/busybox:1.36")]))

    widget_uid = {}
    for i in range(1, 21):
        widget_uid[f"w{i}"] = kb.new_uid(rng)
        st.put(f"/registry/example.com/widgets/default/w{i}".encode(),
               widget(rng, "default", f"w{i}", widget_uid[f"w{i}"], T0 + 1300 + i, i))
    for i in range(1, 6):
        st.put(f"/registry/example.com/widgets/team-a/gadget-{i}".encode(),
               widget(rng, "team-a", f"gadget-{i}", kb.new_uid(rng), T0 + 1330 + i, 10 * i))

    # -- churn: pods get scheduled and run, endpoints appear, leases renew ---------------------------------
    for k in pod_keys:
        pmeta, ctrs, node_name, pod_ip = pod_info[k]
        host_ip = dict(NODES)[node_name]
        st.put(k, kb.pod(pmeta, kb.pod_spec(ctrs, node_name), "Running", host_ip, pod_ip, T0 + 1500))
    for i, (ns, name, port, target, sel) in enumerate(svcs):
        meta = kb.object_meta(name, ns, kb.new_uid(rng), T0 + 20 + i, labels=sel or {"component": "apiserver"})
        if name == "kubernetes":
            addrs = [(ip, "") for _, ip in NODES[:3]]
        else:
            addrs = [(pod_info[k][3], pod_info[k][2]) for k in pod_keys
                     if k.startswith(f"/registry/pods/{ns}/".encode()) and (name + "-").encode() in k][:4]
        st.put(f"/registry/services/endpoints/{ns}/{name}".encode(), kb.endpoints(meta, addrs, [("http", target)]))
    for i, (ns, name, image, replicas, port) in enumerate(APPS):
        labels = {"app": name}
        meta = kb.object_meta(name, ns, deploy_uid[(ns, name)], T0 + 1000 + i, labels, generation=1,
                              annotations={"deployment.kubernetes.io/revision": "1"})
        st.put(f"/registry/deployments/{ns}/{name}".encode(),
               kb.deployment(meta, replicas, labels, [kb.container(name, image, port)], replicas, 1))
    for rnd in range(3):
        for n, _ in NODES:
            put_node_lease(n, T0 + 80 + 10 * rnd)

    # events, attached to two shared etcd leases as kube-apiserver does (--event-ttl, 1h default)
    ev_lease = [0x694D8C3A1F2E1001, 0x694D8C3A1F2E1002]
    for lid in ev_lease:
        st.lease_grant(lid, 3660)
    for j, k in enumerate(pod_keys[:24]):
        ns, pname = k.decode().split("/")[3:5]
        ename = f"{pname}.{rng.getrandbits(60):x}"
        meta = kb.object_meta(ename, ns, kb.new_uid(rng), T0 + 1500 + j)
        reason, msg = rng.choice([("Scheduled", f"Successfully assigned {ns}/{pname}"),
                                  ("Pulled", "Container image already present on machine"),
                                  ("Started", "Started container"), ("Created", "Created container")])
        st.put(f"/registry/events/{ns}/{ename}".encode(),
               kb.event(meta, ("Pod", ns, pname, ""), reason, msg, "kubelet", pod_info[k][2],
                        T0 + 1500 + j, T0 + 1500 + j, 1), lease=ev_lease[j % 2])

    # deletes before the compaction: these tombstones are compacted away
    for k in pod_keys[5:11]:
        st.delete(k)
    st.delete(b"/registry/secrets/team-b/old-token")
    st.delete(b"/registry/example.com/widgets/default/w3")
    st.put(b"/registry/example.com/widgets/default/w3",
           widget(rng, "default", "w3", kb.new_uid(rng), T0 + 1600, 3))  # recreated: new generation
    st.delete(b"/registry/example.com/widgets/default/w7")
    for k in cm_keys[:6]:
        meta = kb.object_meta(k.decode().rsplit("/", 1)[1], k.decode().split("/")[3], kb.new_uid(rng), T0 + 950)
        st.put(k, kb.configmap(meta, {"key0": "updated once"}))
    for k in secret_keys[:4]:
        meta = kb.object_meta(k.decode().rsplit("/", 1)[1], k.decode().split("/")[3], kb.new_uid(rng), T0 + 900)
        st.put(k, kb.secret(meta, {"password": (SECRET_MARKER + "rotated-" + rng.randbytes(9).hex()).encode()}))

    # -- compaction, the way kube-apiserver does it: record the revision in compact_rev_key, compact -------
    compact_at = st.rev
    st.put(b"compact_rev_key", str(compact_at).encode())
    st.compact(compact_at)

    # -- after the compaction: history and tombstones that survive into the snapshot ---------------------
    for rnd in range(5):
        for n, _ in NODES:
            put_node_lease(n, T0 + 400 + 10 * rnd)
    for k in pod_keys[11:]:  # a rolling node reboot: every surviving pod restarts once
        pmeta, ctrs, node_name, pod_ip = pod_info[k]
        st.put(k, kb.pod(pmeta, kb.pod_spec(ctrs, node_name), "Running", dict(NODES)[node_name], pod_ip, T0 + 2000))
    for i, (ns, name, image, replicas, port) in enumerate(APPS):
        labels = {"app": name}
        meta = kb.object_meta(name, ns, deploy_uid[(ns, name)], T0 + 1000 + i, labels, generation=2,
                              annotations={"deployment.kubernetes.io/revision": "1"})
        st.put(f"/registry/deployments/{ns}/{name}".encode(),
               kb.deployment(meta, replicas, labels, [kb.container(name, image, port)], replicas, 2))
    for k in pod_keys[31:36]:
        st.delete(k)
    st.delete(b"/registry/configmaps/team-b/", b"/registry/configmaps/team-b0")  # one revision, 6 subs
    st.delete(b"/registry/example.com/widgets/default/w5")
    st.put(b"/registry/example.com/widgets/default/w7",
           widget(rng, "default", "w7", kb.new_uid(rng), T0 + 2100, 7))  # recreated after the compaction
    st.delete(b"/registry/deployments/team-a/notifier")
    st.delete(f"/registry/replicasets/team-a/{rs_names[('team-a', 'notifier')]}".encode())
    for k in cm_keys[:3]:
        meta = kb.object_meta(k.decode().rsplit("/", 1)[1], k.decode().split("/")[3], kb.new_uid(rng), T0 + 950)
        st.put(k, kb.configmap(meta, {"key0": "updated twice"}))
    for rnd in range(3):
        st.put(b"/registry/example.com/widgets/default/w1",
               widget(rng, "default", "w1", widget_uid["w1"], T0 + 1301, 1, generation=2 + rnd))
    st.lease_revoke(ev_lease[0])  # events expire: one revision, one sub per attached key
    st.put(b"compact_rev_key", str(st.rev).encode())  # next compaction cycle noted, not yet run
    for n, _ in NODES[:2]:
        put_node_lease(n, T0 + 500)

    return st.facts(
        fixture="basic",
        seed=SEED,
        secret_value_marker=SECRET_MARKER,
        overflow_values=[{"key": k.decode(), "value_size": n, "approx": "20 KiB" if n < 50000 else "100 KiB"}
                         for k, n in sorted(big.items(), key=lambda kv: kv[1])],
    )


def load_nospace(st: Store, value_size: int):
    """Write 2 KiB-ish configmaps until etcd refuses with NOSPACE; record what got in and the alarms."""
    rng = random.Random(SEED + 1)
    refused = None
    i = 0
    while i < 100000:
        meta = kb.object_meta(f"fill-{i:05d}", "fill", kb.new_uid(rng), T0 + i)
        v = kb.configmap(meta, {"blob": base64.b64encode(rng.randbytes(value_size * 3 // 4)).decode()})
        k = f"/registry/configmaps/fill/fill-{i:05d}".encode()
        try:
            st.put(k, v)
        except GatewayError as e:
            refused = {"key": k.decode(), "error": e.message}
            break
        i += 1
    if refused is None:
        raise SystemExit("etcd never refused a write; quota too large?")
    alarms = st.gw.call("/v3/maintenance/alarm", {"action": "GET"}).get("alarms", [])
    return st.facts(fixture="nospace", seed=SEED + 1, refused_put=refused,
                    alarms=[{"member_id": int(a["memberID"]), "alarm": a.get("alarm", "NONE")} for a in alarms])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=["basic", "empty", "nospace"])
    ap.add_argument("--endpoint", required=True, help="http://127.0.0.1:PORT (loopback only)")
    ap.add_argument("--facts", required=True, help="where to write the facts JSON")
    ap.add_argument("--value-size", type=int, default=2048, help="nospace: approximate value size")
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=VALUE",
                    help="record NAME=VALUE in the facts (how etcd was started, say); integers stay integers")
    a = ap.parse_args()
    st = Store(Gateway(a.endpoint))
    if a.scenario == "basic":
        facts = load_basic(st)
    elif a.scenario == "nospace":
        facts = load_nospace(st, a.value_size)
    else:
        facts = st.facts(fixture="empty")
    for kv in a.extra:
        name, _, value = kv.partition("=")
        facts[name] = int(value) if value.lstrip("-").isdigit() else value
    with open(a.facts, "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{a.scenario}: revision {facts['revision']}, {facts['live_keys']} live keys, "
          f"{facts['key_bucket_records']} records in `key` ({facts['tombstones']} tombstones), "
          f"compacted at {facts['compact_revision']}", file=sys.stderr)


if __name__ == "__main__":
    main()
