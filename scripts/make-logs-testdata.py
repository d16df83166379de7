#!/usr/bin/env python3
"""Writes testdata/logs/: small kube-apiserver logs in every format `etcd-autopsy logs` reads.

    scripts/make-logs-testdata.py [--out testdata/logs]

The lines are written by hand from the upstream shapes (../shared/reference/formats.md §5;
kubernetes/apiserver and client-go release branches for the cacher, reflector, watcher and
transformer source lines). The same run always writes the same bytes (gzip mtime 0, fixed "random"
junk), so the tests can assert exact keys, counts, times and line numbers.
"""
import argparse
import gzip
import json
import os
import random
import shutil

SECRET_KEY = "/registry/secrets/kube-system/bootstrap-token-abcdef"
INCIDENT_KEY = "/registry/secrets/cee-dnceed21/alert-logger-sa-token-dzhkb"


def write(root, rel, data):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)


def gz(data):
    if isinstance(data, str):
        data = data.encode()
    return gzip.compress(data, compresslevel=9, mtime=0)


def klog(level, mmdd, hms, pid, src, msg, pad=True):
    pid_s = f"{pid:>7}" if pad else str(pid)
    return f"{level}{mmdd} {hms} {pid_s} {src}] {msg}"


def cacher_msg(typ, key, err):
    return (f"cacher ({typ}): unexpected ListAndWatch error: failed to list *core.Secret: "
            f"unable to transform key \"{key}\": {err}; reinitializing...")


def v119():
    """kube-apiserver 1.19 (cacher.go:419), across New Year's Eve: needs --year and --tz."""
    err = "invalid padding on input"
    lines = [
        klog("I", "1231", "23:59:50.100001", 1, "flags.go:59", 'FLAG: --advertise-address="10.0.0.11"'),
        klog("I", "1231", "23:59:50.100102", 1, "flags.go:59",
             'FLAG: --encryption-provider-config="/etc/kubernetes/enc/encryption-config.yaml"'),
        klog("I", "1231", "23:59:50.100512", 1, "server.go:618", "external host was not specified, using 10.0.0.11"),
        klog("I", "1231", "23:59:50.100720", 1, "server.go:163", "Version: v1.19.16"),
        klog("I", "1231", "23:59:51.912345", 1, "secure_serving.go:197", "Serving securely on [::]:6443"),
        klog("E", "1231", "23:59:58.635602", 1, "cacher.go:419", cacher_msg("*core.Secret", SECRET_KEY, err)),
        klog("I", "1231", "23:59:58.700000", 1, "httplog.go:89",
             '"HTTP" verb="GET" URI="/api/v1/namespaces/default/pods" latency="1.502ms" '
             'userAgent="kubectl/v1.19.16 (linux/amd64) kubernetes/e37e4ab" srcIP="10.0.0.1:50000" resp=200'),
        klog("E", "1231", "23:59:59.637011", 1, "cacher.go:419", cacher_msg("*core.Secret", SECRET_KEY, err)),
        klog("E", "0101", "00:00:00.638420", 1, "cacher.go:419", cacher_msg("*core.Secret", SECRET_KEY, err)),
        klog("E", "0101", "00:00:00.901234", 1, "watcher.go:296",
             "failed to prepare current and previous objects: invalid padding on input"),
        klog("E", "0101", "00:00:01.639877", 1, "cacher.go:419", cacher_msg("*core.Secret", SECRET_KEY, err)),
        klog("I", "0101", "00:00:02.000001", 1, "trace.go:205",
             'Trace[1234567]: "List etcd3" key:/secrets,resourceVersion:,resourceVersionMatch:,limit:500,'
             'continue: (01-Jan-2022 00:00:01.400) (total time: 600ms):'),
        "Trace[1234567]: [600.123ms] [600.123ms] END",
    ]
    return "\n".join(lines) + "\n"


def v123():
    """1.23: reflector.go:324 warning + cacher.go:424 error, PID padding collapsed (pasted)."""
    key = "/registry/secrets/openshift-config/etcd-client"
    err = "invalid PKCS7 data (empty or not padded)"
    out = [
        klog("I", "0515", "17:48:30.000100", 1, "server.go:565", "external host was not specified, using 10.0.0.12", pad=False),
        klog("I", "0515", "17:48:30.000420", 1, "server.go:172", "Version: v1.23.17", pad=False),
    ]
    for s, us in [(36, "025110"), (37, "026420"), (38, "027950")]:
        out.append(klog("W", "0515", f"17:48:{s}.{us}", 1, "reflector.go:324",
                        f"storage/cacher.go:/secrets: failed to list *core.Secret: unable to transform key \"{key}\": {err}",
                        pad=False))
        out.append(klog("E", "0515", f"17:48:{s}.{int(us) + 189:06d}", 1, "cacher.go:424",
                        cacher_msg("*core.Secret", key, err), pad=False))
    out.append(klog("E", "0515", "17:48:39.100000", 1, "reflector.go:138",
                    f"storage/cacher.go:/secrets: Failed to watch *core.Secret: failed to list *core.Secret: "
                    f"unable to transform key \"{key}\": {err}", pad=False))
    return "\n".join(out) + "\n"


def v126():
    """1.26–1.28: `cacher (secrets)`, configmaps with secretbox, a route with no matching prefix."""
    sk = "/registry/secrets/payments/db-password"
    ck = "/registry/configmaps/payments/app-settings"
    rk = "/registry/route.openshift.io/routes/payments/frontend"
    out = [
        klog("I", "0301", "09:00:00.000100", 1, "server.go:565", "external host was not specified, using 10.0.0.13"),
        klog("I", "0301", "09:00:00.000400", 1, "server.go:163", "Version: v1.26.15"),
        klog("I", "0301", "09:00:00.000410", 1, "server.go:165", '"Golang settings" GOGC="" GOMAXPROCS="" GOTRACEBACK=""'),
        klog("W", "0301", "09:00:10.100000", 1, "reflector.go:424",
             f"storage/cacher.go:/secrets: failed to list *core.Secret: unable to transform key \"{sk}\": "
             "cipher: message authentication failed"),
        klog("E", "0301", "09:00:10.100200", 1, "cacher.go:450",
             cacher_msg("secrets", sk, "cipher: message authentication failed")),
        klog("E", "0301", "09:00:11.000000", 1, "cacher.go:450",
             "cacher (configmaps): unexpected ListAndWatch error: failed to list *core.ConfigMap: "
             f"unable to transform key \"{ck}\": output array was not large enough for encryption; reinitializing..."),
        klog("E", "0301", "09:00:12.000000", 1, "cacher.go:450",
             "cacher (routes.route.openshift.io): unexpected ListAndWatch error: failed to list *route.Route: "
             f"unable to transform key \"{rk}\": no matching prefix found; reinitializing..."),
        klog("E", "0301", "09:00:13.000000", 1, "watcher.go:352",
             "failed to prepare current and previous objects: identity transformer tried to read encrypted data"),
    ]
    return "\n".join(out) + "\n"


def v128():
    """1.28+: transformer.go:164 structured `"failed to decrypt data" err="…"`, an aggregate error."""
    out = [
        klog("I", "0727", "16:20:01.100100", 1, "server.go:148", "Version: v1.28.4"),
        klog("I", "0727", "16:20:01.100200", 1, "server.go:150", '"Golang settings" GOGC="" GOMAXPROCS="" GOTRACEBACK=""'),
        klog("E", "0727", "16:22:15.775506", 1, "transformer.go:164",
             '"failed to decrypt data" err="invalid padding on input"'),
        klog("E", "0727", "16:22:16.775690", 1, "transformer.go:164",
             '"failed to decrypt data" err="[invalid padding on input, no matching key was found for the provided AES transformer]"'),
        klog("E", "0727", "16:22:16.775900", 1, "cacher.go:480",
             cacher_msg("secrets", "/registry/secrets/kube-system/cloud-credentials",
                        "[invalid padding on input, no matching key was found for the provided AES transformer]")),
        klog("I", "0727", "16:22:17.000001", 1, "transformer.go:160",
             '"failed to decrypt data" err="the stored data was shorter than the required size" group="" '
             'version="v1" resource="secrets" subresource="" verb="GET" namespace="kube-system" name="short"'),
    ]
    return "\n".join(out) + "\n"


def v132():
    """1.32+: corrupt objects, KMS v2 failures."""
    out = [
        klog("I", "1203", "08:00:00.000100", 1, "server.go:142", "Version: v1.32.1"),
        klog("W", "1203", "08:01:00.000000", 1, "reflector.go:569",
             "storage/cacher.go:/secrets: failed to list *core.Secret: "
             "data from the storage is not transformable revision=48213: "
             "no matching key was found for the provided Secretbox transformer"),
        klog("E", "1203", "08:01:05.000000", 1, "status.go:71",
             "apiserver received an error that is not an metav1.Status: "
             '&storage.StorageError{Code:7, Key:"/registry/secrets/ns1/s1", ResourceVersion:0, AdditionalErrorMsg:"", '
             'err:(*etcd3.corruptObjectError)(0xc000a1b2c0)}: '
             "StorageError: corrupt object, Code: 7, Key: /registry/secrets/ns1/s1, ResourceVersion: 0, "
             "AdditionalErrorMsg: data from the storage is not transformable revision=48213: "
             "the stored data is not a multiple of the block size"),
        klog("E", "1203", "08:02:00.000000", 1, "transformer.go:164",
             '"failed to decrypt data" err="failed to decrypt DEK, error: rpc error: code = Unavailable desc = '
             'connection error: desc = \\"transport: Error while dialing: dial unix /var/run/kmsplugin/socket.sock: '
             'connect: no such file or directory\\""'),
        klog("E", "1203", "08:02:01.000000", 1, "healthz.go:261",
             "kms-provider-0 check failed: healthz: failed to perform decrypt section of the healthz check for "
             "KMS Provider vault, error: rpc error: code = DeadlineExceeded desc = context deadline exceeded"),
    ]
    return "\n".join(out) + "\n"


def json_logging():
    """--logging-format=json (1.28): ts in epoch ms, caller, msg, err; v on info lines."""
    rows = [
        {"ts": 1690474800100.1, "caller": "app/server.go:148", "msg": "Version: v1.28.4", "v": 0},
        {"ts": 1690474935775.506, "caller": "value/transformer.go:164", "msg": "failed to decrypt data",
         "err": "invalid padding on input"},
        {"ts": 1690474935775.9, "caller": "cacher/cacher.go:480",
         "msg": cacher_msg("secrets", "/registry/secrets/default/db-password", "invalid padding on input")},
        {"ts": 1690474936000.0, "caller": "httplog/httplog.go:132", "msg": "HTTP", "v": 3,
         "verb": "GET", "URI": "/healthz", "resp": 200},
    ]
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)


def cri_line(ts, payload, tag="F"):
    return f"{ts} stderr {tag} {payload}\n"


def incident_line(mmdd_hms, us):
    return klog("E", "1116", f"{mmdd_hms}.{us}", 1, "cacher.go:419",
                cacher_msg("*core.Secret", INCIDENT_KEY, "invalid padding on input"))


def pods(root):
    """kubelet /var/log/pods layout for node master-3 (1.21): instance 0, its rotated older part, and
    instance 1 after a restart; P/F chunks split a line inside the key. Sidecars and etcd are there
    to be skipped."""
    base = "pods/kube-system_kube-apiserver-master-3_6f1b2c3d-0000-4000-8000-000000000003"
    first = (cri_line("2021-11-16T20:05:00.000300000Z",
                      klog("I", "1116", "20:05:00.000100", 1, "server.go:629", "external host was not specified, using 10.0.0.13"))
             + cri_line("2021-11-16T20:05:00.000500000Z", klog("I", "1116", "20:05:00.000400", 1, "server.go:161", "Version: v1.21.14"))
             + cri_line("2021-11-16T20:05:30.000300000Z",
                        klog("E", "1116", "20:05:30.000100", 1, "cacher.go:419",
                             cacher_msg("*core.Secret", INCIDENT_KEY, "invalid padding on input"))))
    write(root, f"{base}/kube-apiserver/0.log.20211116-200952.gz", gz(first))
    long_line = incident_line("20:09:52", "635602")
    cut1 = long_line.index("cee-") + 4       # inside the key
    cut2 = long_line.index("invalid padding") + 8
    zero = (cri_line("2021-11-16T20:09:50.000200000Z", klog("I", "1116", "20:09:50.000100", 1, "httplog.go:94",
                                                         '"HTTP" verb="GET" URI="/readyz" latency="1ms" resp=200'))
            + cri_line("2021-11-16T20:09:52.635700000Z", long_line[:cut1], "P")
            + cri_line("2021-11-16T20:09:52.635710000Z", long_line[cut1:cut2], "P")
            + cri_line("2021-11-16T20:09:52.635720000Z", long_line[cut2:], "F")
            + cri_line("2021-11-16T20:09:53.637100000Z", incident_line("20:09:53", "637011"))
            + cri_line("2021-11-16T20:09:54.638500000Z", incident_line("20:09:54", "638420")))
    write(root, f"{base}/kube-apiserver/0.log", zero)
    # Instance 1: the runtime writes local time with an offset this time.
    one = (cri_line("2021-11-16T21:10:05.000300000+01:00", klog("I", "1116", "20:10:05.000200", 1, "server.go:161", "Version: v1.21.14"))
           + cri_line("2021-11-16T21:10:15.100300000+01:00", incident_line("20:10:15", "100200"))
           + cri_line("2021-11-16T21:10:16.101300000+01:00", incident_line("20:10:16", "101200")))
    write(root, f"{base}/kube-apiserver/1.log", one)
    write(root, f"{base}/kube-apiserver-check-endpoints/0.log",
          cri_line("2021-11-16T20:09:52.700000000Z", klog("E", "1116", "20:09:52.699000", 1, "x.go:1",
                   f"unable to transform key \"{INCIDENT_KEY}\": invalid padding on input")))
    write(root, "pods/kube-system_etcd-master-3_6f1b2c3d-0000-4000-8000-00000000e7cd/etcd/0.log",
          cri_line("2021-11-16T20:09:52.700000000Z", '{"level":"info","msg":"transform nothing"}'))


def must_gather(root):
    """OpenShift must-gather (4.13, kube 1.26): kubectl --timestamps lines, previous and current."""
    base = ("must-gather/namespaces/openshift-kube-apiserver/pods/kube-apiserver-master-0/"
            "kube-apiserver/kube-apiserver/logs")
    ck = "/kubernetes.io/configmaps/openshift-config/admin-kubeconfig-client-ca"
    prev = (f"2023-06-01T10:00:00.000200000Z {klog('I', '0601', '10:00:00.000100', 18, 'server.go:163', 'Version: v1.26.3+b404935')}\n"
            f"2023-06-01T10:00:30.000200000Z "
            f"{klog('E', '0601', '10:00:30.000100', 18, 'cacher.go:450', 'cacher (configmaps): unexpected ListAndWatch error: failed to list *core.ConfigMap: unable to transform key ' + chr(34) + ck + chr(34) + ': cipher: message authentication failed; reinitializing...')}\n")
    cur = (f"2023-06-01T10:05:00.000200000Z {klog('I', '0601', '10:05:00.000100', 17, 'server.go:163', 'Version: v1.26.3+b404935')}\n"
           f"2023-06-01T10:05:10.000200000Z "
           f"{klog('E', '0601', '10:05:10.000100', 17, 'cacher.go:450', 'cacher (configmaps): unexpected ListAndWatch error: failed to list *core.ConfigMap: unable to transform key ' + chr(34) + ck + chr(34) + ': cipher: message authentication failed; reinitializing...')}\n"
           f"2023-06-01T10:05:10.500200000Z {klog('I', '0601', '10:05:10.500100', 17, 'httplog.go:132', chr(34) + 'HTTP' + chr(34) + ' verb=' + chr(34) + 'GET' + chr(34) + ' URI=' + chr(34) + '/readyz' + chr(34) + ' resp=200')}\n")
    write(root, f"{base}/previous.log", prev)
    write(root, f"{base}/current.log", cur)
    write(root, ("must-gather/namespaces/openshift-kube-apiserver/pods/kube-apiserver-master-0/"
                 "kube-apiserver-cert-syncer/kube-apiserver-cert-syncer/logs/current.log"),
          f"2023-06-01T10:05:11.000200000Z {klog('E', '0601', '10:05:11.000100', 1, 'x.go:1', 'unable to transform key ' + chr(34) + ck + chr(34) + ': invalid padding on input')}\n")


def docker(root):
    """docker json-file (1.21 on dockershim): a 16 KiB-style split inside the key."""
    line = incident_line("20:09:52", "635602")
    cut = line.index("cee-") + 4
    rows = [
        {"log": klog("I", "1116", "20:09:40.000100", 1, "server.go:161", "Version: v1.21.14") + "\n",
         "stream": "stderr", "time": "2021-11-16T20:09:40.000300123Z"},
        {"log": line[:cut], "stream": "stderr", "time": "2021-11-16T20:09:52.635700000Z"},
        {"log": line[cut:] + "\n", "stream": "stderr", "time": "2021-11-16T20:09:52.635710000Z"},
        {"log": incident_line("20:09:53", "637011") + "\n", "stream": "stderr", "time": "2021-11-16T20:09:53.637100000Z"},
    ]
    write(root, "docker/master-1.log", "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))


def journal(root):
    """journald: a kube-apiserver systemd unit (1.24, cacher.go:425) and kubelet, as json, short and
    short-iso. One MESSAGE is not UTF-8 and comes as a byte array."""
    key = "/registry/secrets/monitoring/grafana-admin"
    api = klog("E", "0404", "04:04:04.404040", 2222, "cacher.go:425",
               cacher_msg("*core.Secret", key, "invalid padding on input"))
    api2 = klog("E", "0404", "04:04:05.405050", 2222, "cacher.go:425",
                cacher_msg("*core.Secret", key, "invalid padding on input"))
    kubelet = klog("E", "0404", "04:04:06.000123", 1500, "secret.go:195",
                   "Couldn't get secret monitoring/grafana-admin: Internal error occurred: invalid padding on input")
    bad = (klog("E", "0404", "04:04:07.000000", 2222, "watcher.go:327",
                "failed to prepare current and previous objects: invalid padding on input").encode() + b" \xff\xfe")
    rows = [
        {"__REALTIME_TIMESTAMP": "1649045040000100", "_HOSTNAME": "master-2", "SYSLOG_IDENTIFIER": "kube-apiserver",
         "_PID": "2222", "MESSAGE": klog("I", "0404", "04:04:00.000050", 2222, "server.go:167", "Version: v1.24.17")},
        {"__REALTIME_TIMESTAMP": "1649045044404100", "_HOSTNAME": "master-2", "SYSLOG_IDENTIFIER": "kube-apiserver",
         "_PID": "2222", "MESSAGE": api},
        {"__REALTIME_TIMESTAMP": "1649045045405100", "_HOSTNAME": "master-2", "SYSLOG_IDENTIFIER": "kube-apiserver",
         "_PID": "2222", "MESSAGE": api2},
        {"__REALTIME_TIMESTAMP": "1649045046000200", "_HOSTNAME": "master-2", "SYSLOG_IDENTIFIER": "kubelet",
         "_PID": "1500", "MESSAGE": kubelet},
        {"__REALTIME_TIMESTAMP": "1649045047000100", "_HOSTNAME": "master-2", "SYSLOG_IDENTIFIER": "kube-apiserver",
         "_PID": "2222", "MESSAGE": list(bad)},
    ]
    write(root, "journal/master-2.json", "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    short = (f"-- Logs begin at Mon 2022-04-04 04:00:00 UTC, end at Mon 2022-04-04 04:05:00 UTC. --\n"
             f"Apr 04 04:04:04 master-2 kube-apiserver[2222]: {api}\n"
             f"Apr 04 04:04:05 master-2 kube-apiserver[2222]: {api2}\n"
             f"Apr 04 04:04:06 master-2 kubelet[1500]: {kubelet}\n")
    write(root, "journal/master-2-short.log", short)
    iso = (f"2022-04-04T04:04:04+0000 master-2 kube-apiserver[2222]: {api}\n"
           f"2022-04-04T04:04:05+0000 master-2 kube-apiserver[2222]: {api2}\n")
    write(root, "journal/master-2-short-iso.log", iso)


def pasted(root):
    """incidents.md §1: hard-wrapped in a ticket, the key split across two lines."""
    text = (
        "kube-apiserver on master-3 is 0/1 Ready and restarting. `kubectl logs kube-apiserver-master-3 -n\n"
        "kube-system` is full of, roughly once a second:\n"
        "\n"
        "    E1116 20:09:52.635602      1 cacher.go:419] cacher (*core.Secret): unexpected ListAndWatch\n"
        "    error: failed to list *core.Secret: unable to transform key \"/registry/secrets/cee-\n"
        "    dnceed21/alert-logger-sa-token-dzhkb\": invalid padding on input; reinitializing...\n"
        "    E1116 20:09:53.637011      1 cacher.go:419] cacher (*core.Secret): unexpected ListAndWatch\n"
        "    error: failed to list *core.Secret: unable to transform key \"/registry/secrets/cee-dnceed21/\n"
        "    alert-logger-sa-token-dzhkb\": invalid padding on input; reinitializing...\n"
        "    E1116 20:09:54.638420      1 cacher.go:419] cacher (*core.Secret): unexpected\n"
        "    ListAndWatch error: failed to list *core.Secret: unable to transform key\n"
        "    \"/registry/secrets/cee-dnceed21/alert-logger-sa-token-dzhkb\": invalid padding on\n"
        "    input; reinitializing...\n"
        "\n"
        "master-1 and master-2 are fine.\n"
    )
    write(root, "pasted/incident-1.txt", text)


def clients(root):
    """What users paste from clients: kubectl's error, no timestamps."""
    text = (
        "$ kubectl get secrets -n cee-dnceed21\n"
        "Error from server (InternalError): Internal error occurred: unable to transform key "
        f"\"{INCIDENT_KEY}\": invalid padding on input\n"
        "$ kubectl get secret -n cee-dnceed21 alert-logger-sa-token-dzhkb\n"
        "Error from server (InternalError): Internal error occurred: invalid padding on input\n"
    )
    write(root, "clients/kubectl-output.txt", text)


def gzipped(root):
    """A gzipped klog file, and the same file cut short (a truncated gzip stream)."""
    body = "".join(
        klog("E", "0210", f"11:00:0{i}.00000{i}", 1, "cacher.go:440",
             cacher_msg("*core.Secret", f"/registry/secrets/app/s{i}", "invalid padding on input")) + "\n"
        for i in range(6)
    ) + "".join(
        klog("I", "0210", f"11:00:{10 + i}.000000", 1, "httplog.go:94", f'"HTTP" verb="GET" URI="/x/{i}" resp=200') + "\n"
        for i in range(200)
    )
    data = gz(body)
    write(root, "gz/master-1.log.gz", data)
    write(root, "gz/truncated.log.gz", data[: len(data) * 2 // 3])


def junk(root):
    """Binary garbage, NUL bytes and invalid UTF-8 around one real error line."""
    rng = random.Random(4)
    blob = bytes(rng.randrange(256) for _ in range(3000))
    line = (klog("E", "0909", "09:09:09.090909", 1, "cacher.go:440",
                 "cacher (*core.Secret): unexpected ListAndWatch error: failed to list *core.Secret: "
                 "unable to transform key \"/registry/secrets/ns/bad").encode()
            + b"\xffname\": invalid padding on input; reinitializing...\n")
    write(root, "junk/binary-junk.log", b"\x00\x01\x02 junk\n" + blob + b"\n" + line + blob[:500] + b"\n\xfe\xff tail")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "testdata", "logs"))
    args = ap.parse_args()
    root = args.out
    for sub in ["klog", "json", "pods", "must-gather", "docker", "journal", "pasted", "clients", "gz", "junk"]:
        shutil.rmtree(os.path.join(root, sub), ignore_errors=True)
    write(root, "klog/v1.19/master-1.log", v119())
    write(root, "klog/v1.23/master-2.log", v123())
    write(root, "klog/v1.26/master-3.log", v126())
    write(root, "klog/v1.28/master-1.log", v128())
    write(root, "klog/v1.32/master-2.log", v132())
    write(root, "json/master-3.log", json_logging())
    pods(root)
    must_gather(root)
    docker(root)
    journal(root)
    pasted(root)
    clients(root)
    gzipped(root)
    junk(root)


if __name__ == "__main__":
    main()
