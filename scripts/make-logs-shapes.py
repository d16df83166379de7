#!/usr/bin/env python3
"""Writes testdata/logs/shapes/: logs as people paste them (issue #12), each with its expected events.

    scripts/make-logs-shapes.py [--out testdata/logs/shapes]     # the fixtures
    scripts/make-logs-shapes.py --mix SEED [--out DIR]           # one paste mixing them with noise

Every shape is a block of lines written here by hand in the shape a public paste has (GitHub issues,
vendor KB articles, incident notes; looked up, not copied): the apiserver error strings are the
apiserver's own (kubernetes/apiserver storage/etcd3/store.go, storage/cacher, storage/value/encrypt,
envelope, kmsv2, server/options/encryptionconfig/config.go; k3s pkg/secretsencrypt/config.go and
pkg/cluster/bootstrap.go), keys and names are invented. Each block lists the events a careful reader
sees in it, with line numbers relative to the block. `expected.json` holds them for every file, read
by tests/logs.rs with `--year 2024 --tz +00:00`. The same run writes the same bytes.

`--mix SEED` writes `mixed-SEED.txt` and `mixed-SEED.expected.json`: the blocks in a seeded order,
separated by noise (klog info lines, prose, Markdown tables and fences that must not become events or
join an event), with the expected line numbers shifted accordingly.
"""
import argparse
import json
import os
import random

PAD = "invalid padding on input"
NMP = "no matching prefix found"
B64 = "illegal base64 data at input byte 0"
KEY1 = "/registry/secrets/payments/db-credentials"
KEY2 = "/registry/secrets/kube-system/bootstrap-token-q7x2rv"
KEY3 = "/registry/configmaps/monitoring/grafana-dashboards"


def ev(line, error, key=None, **kw):
    e = {"line": line, "error": error, "key": key}
    e.update(kw)
    return e


def reflector(mmdd, hms, key, err, typ="*core.Secret", res="secrets"):
    return (f"E{mmdd} {hms}       1 reflector.go:147] storage/cacher.go:/{res}: failed to list {typ}: "
            f"unable to transform key \"{key}\": {err}")


# Each shape: (file name, lines, expected events). Times are klog's (no year): tests pass --year 2024.
SHAPES = []

# 1. An unterminated error followed by a closing fence, a sentence, and a summary table.
SHAPES.append(("01-swallow.md", [
    "The apiserver on cp-2 keeps logging this:",
    "",
    "```",
    reflector("0312", "08:15:02.118734", KEY1, NMP),
    "```",
    "We tried restarting the kubelet.",
    "",
    "| node | errors |",
    "|------|--------|",
    "| cp-2 | 1 |",
    "",
    "and on the next retry, pasted without a fence:",
    reflector("0312", "08:15:03.120051", KEY1, NMP),
    "We tried restarting the kubelet again, no change.",
    "| cp-2 | 2 |",
], [
    ev(4, NMP, KEY1, time="2024-03-12T08:15:02.118734Z", cls="no-matching-prefix"),
    ev(13, NMP, KEY1, time="2024-03-12T08:15:03.120051Z", cls="no-matching-prefix"),
]))

# 2. Markdown punctuation: inline code around the line, a stray quote before the closing backtick.
SHAPES.append(("02-punctuation.md", [
    "Error seen: `" + reflector("0312", "08:20:00.000001", KEY1, NMP) + "`",
    "",
    "and once more: `" + reflector("0312", "08:20:01.000001", KEY1, NMP) + "\"`",
    "",
    "and in bold: **" + reflector("0312", "08:20:02.000001", KEY1, PAD) + "**",
], [
    ev(1, NMP, KEY1, time="2024-03-12T08:20:00.000001Z"),
    ev(3, NMP, KEY1, time="2024-03-12T08:20:01.000001Z"),
    ev(5, PAD, KEY1, time="2024-03-12T08:20:02.000001Z"),
]))

# 3. A wrapped log pasted as a quote (`> `) and as a shell comment (`# `): every line prefixed.
SHAPES.append(("03-quoted-wrap.txt", [
    "> E0312 09:01:10.500000       1 cacher.go:424] cacher (secrets): unexpected ListAndWatch",
    "> error: failed to list *core.Secret: unable to transform key \"/registry/secrets/payme",
    "> nts/db-credentials\": invalid padding on input; reinitializing...",
    "",
    "# E0312 09:01:11.500000       1 cacher.go:424] cacher (secrets): unexpected ListAndWatch",
    "# error: failed to list *core.Secret: unable to transform key \"/registry/secrets/kube-system/",
    "# bootstrap-token-q7x2rv\": invalid padding on input; reinitializing...",
], [
    ev(3, PAD, KEY1, time="2024-03-12T09:01:10.500000Z", record_line=1, component="cacher (secrets)"),
    ev(7, PAD, KEY2, time="2024-03-12T09:01:11.500000Z", record_line=5, component="cacher (secrets)"),
]))

# 4. Documentation quoting the error with placeholders: no events at all.
SHAPES.append(("04-placeholders.md", [
    "## Troubleshooting",
    "",
    "If the key is wrong the apiserver logs `failed to list *core.Secret: unable to transform key",
    "\"/registry/secrets/<namespace>/<secret-name>\": invalid padding on input`.",
    "",
    "Or: unable to transform key \"/registry/secrets/...\": no matching prefix found",
    "",
    "For a configmap: `unable to transform key \"/registry/configmaps/{namespace}/{name}\": " + PAD + "`",
], []))

# 5. illegal base64: an apiserver without the matching config reading encrypted values.
SHAPES.append(("05-base64.log", [
    "E0312 10:00:00.100000       1 reflector.go:147] storage/cacher.go:/secrets: failed to list *core.Secret: " + B64,
    "E0312 10:00:00.100200       1 cacher.go:470] cacher (secrets): unexpected ListAndWatch error: failed to list *core.Secret: " + B64 + "; reinitializing...",
    "E0312 10:00:05.000000       1 status.go:71] apiserver received an error that is not an metav1.Status: &base64.CorruptInputError(0): " + B64,
    "I0312 10:00:06.000000       1 authentication.go:63] Unable to authenticate the request: illegal base64 data at input byte 4",
], [
    ev(1, B64, None, time="2024-03-12T10:00:00.100000Z", cls="base64"),
    ev(2, B64, None, time="2024-03-12T10:00:00.100200Z", cls="base64"),
    ev(3, B64, None, time="2024-03-12T10:00:05.000000Z", cls="base64"),
]))

# 6. KMS v1 and v2 errors, each with its class.
KMS_VER = "failed get version from remote KMS provider: rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial unix /var/run/kmsplugin/socket.sock: connect: no such file or directory\""
KMS_DEC = "error while decrypting key: \"rpc error: code = DeadlineExceeded desc = context deadline exceeded\""
KMS_DEK = "failed to decrypt DEK, error: rpc error: code = PermissionDenied desc = key disabled"
KMS_ENV = "invalid data encountered by envelope transformer: failed to read uint16 length prefixed data"
SHAPES.append(("06-kms.log", [
    "E0312 11:00:00.000001       1 grpc_service.go:120] " + KMS_VER,
    "E0312 11:00:01.000001       1 reflector.go:147] storage/cacher.go:/secrets: failed to list *core.Secret: unable to transform key \"" + KEY1 + "\": " + KMS_DEC,
    "E0312 11:00:02.000001       1 reflector.go:147] storage/cacher.go:/secrets: failed to list *core.Secret: unable to transform key \"" + KEY2 + "\": " + KMS_DEK,
    "E0312 11:00:03.000001       1 reflector.go:147] storage/cacher.go:/configmaps: failed to list *core.ConfigMap: unable to transform key \"" + KEY3 + "\": " + KMS_ENV,
], [
    ev(1, KMS_VER, None, cls="kms-unavailable"),
    ev(2, KMS_DEC, KEY1, cls="kms"),
    ev(3, KMS_DEK, KEY2, cls="kms"),
    ev(4, KMS_ENV, KEY3, cls="kms-invalid-data"),
]))

# 7/8. Envelopes and the node hints they carry.
SHAPES.append(("07-kubectl-prefix.txt", [
    "[pod/kube-apiserver-cp-1/kube-apiserver] " + reflector("0312", "12:00:00.000001", KEY1, PAD),
    "[pod/kube-apiserver-cp-2/kube-apiserver] 2024-03-12T12:00:01.250000000Z " + reflector("0312", "12:00:01.249000", KEY2, PAD),
    "[pod/kube-apiserver-cp-2/kube-apiserver] 2024-03-12T12:00:02.250000000Z I0312 12:00:02.249000       1 httplog.go:132] \"HTTP\" verb=\"GET\" URI=\"/healthz\" resp=200",
], [
    ev(1, PAD, KEY1, node="cp-1", time="2024-03-12T12:00:00.000001Z"),
    ev(2, PAD, KEY2, node="cp-2", time="2024-03-12T12:00:01.249000Z"),
]))
SHAPES.append(("07-stern.txt", [
    "kube-apiserver-cp-3 kube-apiserver " + reflector("0312", "12:10:00.000001", KEY1, PAD),
    "kube-apiserver-cp-3 kube-apiserver " + reflector("0312", "12:10:01.000001", KEY1, PAD),
], [
    ev(1, PAD, KEY1, node="cp-3"),
    ev(2, PAD, KEY1, node="cp-3"),
]))
K0S_MSG = reflector("0312", "12:20:00.000001", KEY1, NMP).replace('"', '\\"')
SHAPES.append(("07-k0s-logrus.log", [
    'time="2024-03-12T12:20:00Z" level=info msg="' + K0S_MSG + '" component=kube-apiserver stream=stderr',
    'time="2024-03-12T12:20:01Z" level=info msg="I0312 12:20:01.000001       1 httplog.go:132] \\"HTTP\\" verb=\\"GET\\"" component=kube-apiserver stream=stderr',
], [
    ev(1, NMP, KEY1, time="2024-03-12T12:20:00.000001Z"),
]))
SHAPES.append(("07-journal-list.md", [
    "Journal on the node:",
    "",
    "  - Mar 12 12:30:00 cp-1 kube-apiserver[2211]: " + reflector("0312", "12:30:00.000001", KEY1, PAD),
    "  - Mar 12 12:30:01 cp-2 kube-apiserver[3177]: " + reflector("0312", "12:30:01.000001", KEY2, PAD),
], [
    ev(3, PAD, KEY1, node="cp-1"),
    ev(4, PAD, KEY2, node="cp-2"),
]))
SHAPES.append(("07-email-quote.txt", [
    "On Tue, Mar 12, 2024 the on-call wrote:",
    "> > E0312 12:40:00.000001       1 reflector.go:147] storage/cacher.go:/secrets: failed to list *core.Secret: unable to transform key \"" + KEY1 + "\": " + PAD,
    "> > E0312 12:40:01.000001       1 reflector.go:147] storage/cacher.go:/secrets: failed to list *core.Secret: unable to transform key \"" + KEY1 + "\": " + PAD,
    "> Same here.",
], [
    ev(2, PAD, KEY1, time="2024-03-12T12:40:00.000001Z"),
    ev(3, PAD, KEY1, time="2024-03-12T12:40:01.000001Z"),
]))

# 10. Clients: kubelet (journald), kubectl after its command, describe events.
SHAPES.append(("10-clients.txt", [
    "Mar 12 13:00:00 worker-7 kubelet[981]: E0312 13:00:00.000001     981 reflector.go:147] object-\"payments\"/\"db-credentials\": Failed to watch *v1.Secret: failed to list *v1.Secret: Internal error occurred: unable to transform key \"" + KEY1 + "\": " + PAD,
    "",
    "$ kubectl get secret db-credentials -n payments",
    "Error from server (InternalError): Internal error occurred: " + PAD,
    "",
    "Events:",
    "  Type     Reason       Age                 From     Message",
    "  ----     ------       ----                ----     -------",
    "  Warning  FailedMount  3m (x23 over 40m)   kubelet  MountVolume.SetUp failed for volume \"creds\" : Internal error occurred: " + PAD,
    "",
    "Mar 12 13:05:00 cp-1 kube-controller-manager[1400]: E0312 13:05:00.000001    1400 reflector.go:147] k8s.io/client-go/informers/factory.go:159: Failed to watch *v1.Secret: failed to list *v1.Secret: Internal error occurred: " + PAD,
], [
    ev(1, PAD, KEY1, side="client", client="kubelet", node="worker-7", object="payments/db-credentials"),
    ev(4, PAD, None, side="client", client="kubectl", object="payments/db-credentials"),
    ev(9, PAD, None, side="client", client="kubectl describe", count=23, over_secs=2400),
    ev(11, PAD, None, side="client", client="kube-controller-manager", node="cp-1", time="2024-03-12T13:05:00.000001Z"),
]))

# 12. k3s/rke2 secrets-encrypt.
K3S_NEWER = "/var/lib/rancher/k3s/server/cred/encryption-config.json newer than datastore and could cause a cluster outage. Remove the file(s) from disk and restart to be recreated from datastore."
SHAPES.append(("12-k3s.log", [
    'Mar 12 14:00:00 node-a k3s[1200]: time="2024-03-12T14:00:00Z" level=fatal msg="' + K3S_NEWER + '"',
    "Server Encryption Hashes: hash does not match between node-a and node-b",
    'Mar 12 14:00:05 node-a k3s[1200]: time="2024-03-12T14:00:05Z" level=fatal msg="/var/lib/rancher/k3s/server/cred/passwd newer than datastore and could cause a cluster outage. Remove the file(s) from disk and restart to be recreated from datastore."',
], [
    ev(1, K3S_NEWER, None, cls="secrets-encrypt-config-newer", node="node-a"),
    ev(2, "hash does not match between node-a and node-b", None, cls="secrets-encrypt-hash-mismatch", peers=["node-a", "node-b"]),
]))

NOISE = [
    ["I0312 07:00:00.000001       1 httplog.go:132] \"HTTP\" verb=\"GET\" URI=\"/readyz\" resp=200"],
    ["We looked at the encryption config on every node; it looks the same.", "Nobody changed it."],
    ["| step | result |", "|---|---|", "| restart | no change |"],
    ["```", "$ kubectl get nodes", "NAME   STATUS   ROLES", "cp-1   Ready    control-plane", "```"],
    ["W0312 07:00:01.000001       1 reflector.go:539] storage/cacher.go:/pods: watch of *core.Pod ended with: very short watch"],
]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="\n") as f:
        f.write(data)


def fixtures(out):
    expected = {}
    for name, lines, events in SHAPES:
        write(os.path.join(out, name), "\n".join(lines) + "\n")
        expected[name] = events
    write(os.path.join(out, "expected.json"), json.dumps(expected, indent=1, sort_keys=True) + "\n")


def mix(seed, out):
    rng = random.Random(seed)
    # The directory-level shapes (k3s bundle) and documentation stay out; the rest are shuffled.
    blocks = [s for s in SHAPES if s[0] != "04-placeholders.md"]
    rng.shuffle(blocks)
    lines, events = [], []
    for name, block, evs in blocks:
        for _ in range(rng.randint(0, 2)):
            lines += rng.choice(NOISE) + [""]
        base = len(lines)
        for e in evs:
            e = dict(e)
            e["line"] += base
            if "record_line" in e:
                e["record_line"] += base
            e.pop("node", None)  # one pasted file: the envelope names it, or the file does
            events.append(e)
        lines += block + [""]
    write(os.path.join(out, f"mixed-{seed}.txt"), "\n".join(lines) + "\n")
    write(os.path.join(out, f"mixed-{seed}.expected.json"), json.dumps(events, indent=1, sort_keys=True) + "\n")


def bundles(root):
    """9. Directories named like collectors name them: recognised by content, the rest skipped."""
    k3s = os.path.join(root, "k3s")
    write(os.path.join(k3s, "node-a", "k3s.log"),
          'time="2024-03-12T15:00:00Z" level=info msg="Starting k3s v1.29.3+k3s1"\n'
          + 'time="2024-03-12T15:00:01Z" level=info msg="' + reflector("0312", "15:00:01.000001", KEY1, PAD).replace('"', '\\"')
          + '" component=kube-apiserver\n')
    write(os.path.join(k3s, "node-b", "journal.txt"),
          "Mar 12 15:00:02 node-b rke2[700]: " + reflector("0312", "15:00:02.000001", KEY2, PAD) + "\n")
    write(os.path.join(k3s, "README.md"), "Collected with the support script.\nSee the ticket for context.\n")
    write(os.path.join(k3s, "node-b", "ps.txt"), "  PID TTY          TIME CMD\n  700 ?        00:12:01 rke2\n")
    nothing = os.path.join(root, "nothing")
    write(os.path.join(nothing, "README.md"), "Nothing here but notes.\n")
    write(os.path.join(nothing, "notes.txt"), "The apiserver was restarted at noon.\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="testdata/logs/shapes")
    ap.add_argument("--mix", type=int)
    a = ap.parse_args()
    if a.mix is not None:
        mix(a.mix, a.out)
    else:
        fixtures(a.out)
        mix(1, a.out)
        bundles(os.path.join(os.path.dirname(a.out.rstrip("/")), "bundles"))


if __name__ == "__main__":
    main()
