#!/usr/bin/env python3
"""Writes deterministic, realistic kube-apiserver klog text for benchmarks.

    scripts/gen-klog.py --mb 1024 --out /tmp/klog-1g.log [--seed 1] [--loop-seconds 1] [--only-errors]

The line shapes are the ones kube-apiserver 1.21 writes in a busy cluster (httplog, trace, watch,
grpc, admission, allocator lines), with klog's 7-column PID padding. About `--error-rate` of the lines
are encryption errors of the incident in ../shared/reference/incidents.md §1: the cacher
reinitializing once every `--loop-seconds` (default 1 s, with jitter; `--only-errors` writes nothing
but those pairs and watch errors, every 50-1200 µs: the worst case for the scanner, issue #18 item 8) on one undecryptable secret (a
reflector.go:424 + cacher.go:419 pair, ~0.1% of ~1,600 lines/s) and, more rarely, a watch error. Trace lines are multi-line, as klog writes them, so the file
also carries headerless continuation lines. The output is the same for the same arguments. Write it
outside the repository (e.g. /tmp).
"""
import argparse
import datetime
import random
import sys

NAMESPACES = ["kube-system", "openshift-monitoring", "default", "cee-dnceed21", "payments", "ingress"]
RESOURCES = ["pods", "secrets", "configmaps", "endpoints", "leases", "nodes", "events", "services"]
AGENTS = [
    "kubelet/v1.21.14 (linux/amd64) kubernetes/0f75679",
    "kube-controller-manager/v1.21.14 (linux/amd64) kubernetes/0f75679/system:serviceaccount:kube-system:endpointslice-controller",
    "kube-scheduler/v1.21.14 (linux/amd64) kubernetes/0f75679/scheduler",
    "Go-http-client/2.0",
    "kubectl/v1.21.14 (linux/amd64) kubernetes/0f75679",
]
VERBS = ["GET", "GET", "GET", "LIST", "WATCH", "PUT", "PATCH", "POST"]
BAD_KEY = "/registry/secrets/cee-dnceed21/alert-logger-sa-token-dzhkb"


def hexid(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def uuid(rng):
    return f"{hexid(rng, 8)}-{hexid(rng, 4)}-{hexid(rng, 4)}-{hexid(rng, 4)}-{hexid(rng, 12)}"


def header(level, t, source):
    return f"{level}{t:%m%d %H:%M:%S}.{t.microsecond:06d}       1 {source}] "


def normal_lines(rng, t):
    """One ordinary record: a list of physical lines (trace records span several)."""
    r = rng.random()
    ns = rng.choice(NAMESPACES)
    res = rng.choice(RESOURCES)
    if r < 0.62:
        verb = rng.choice(VERBS)
        name = f"{res[:-1]}-{hexid(rng, 5)}"
        uri = f"/api/v1/namespaces/{ns}/{res}/{name}" if verb not in ("LIST", "WATCH") else \
            f"/api/v1/namespaces/{ns}/{res}?resourceVersion={rng.randint(1, 10**8)}"
        lat = f"{rng.uniform(0.2, 40):.6f}ms"
        return [header("I", t, "httplog.go:94") +
                f'"HTTP" verb="{verb}" URI="{uri}" latency="{lat}" userAgent="{rng.choice(AGENTS)}" '
                f'audit-ID="{uuid(rng)}" srcIP="10.0.{rng.randint(0, 9)}.{rng.randint(2, 250)}:{rng.randint(30000, 60000)}" '
                f'resp={rng.choice([200, 200, 200, 201, 404, 409])}']
    if r < 0.70:
        tid = rng.randint(10**8, 10**9)
        total = rng.randint(500, 3000)
        return [
            header("I", t, "trace.go:205") +
            f'Trace[{tid}]: "List etcd3" key:/{res}/{ns},resourceVersion:,resourceVersionMatch:,limit:500,continue: '
            f'(16-Nov-2021 {t:%H:%M:%S}.{t.microsecond // 1000:03d}) (total time: {total}ms):',
            f'Trace[{tid}]: [{total}ms] [{total}ms] END',
        ]
    if r < 0.78:
        return [header("I", t, "get.go:260") +
                f'"Starting watch" path="/api/v1/namespaces/{ns}/{res}" resourceVersion="{rng.randint(1, 10**8)}" '
                f'labels="" fields="" timeout="{rng.randint(5, 9)}m{rng.randint(0, 59)}s"']
    if r < 0.85:
        return [header("I", t, "clientconn.go:948") +
                f'ClientConn switching balancer to "pick_first"']
    if r < 0.90:
        return [header("W", t, "watcher.go:220") +
                "watch chan error: etcdserver: mvcc: required revision has been compacted"]
    if r < 0.95:
        return [header("I", t, "controller.go:611") + f"quota admission added evaluator for: {res}"]
    if r < 0.98:
        return [header("I", t, "cacher.go:826") +
                f"cacher (*core.{res[:-1].capitalize()}): {rng.randint(1, 9)} objects queued in incoming channel."]
    return [header("E", t, "status.go:71") +
            "apiserver received an error that is not an metav1.Status: "
            "&errors.errorString{s:\"context canceled\"}: context canceled"]


def loop_lines(t):
    """One turn of the reinitializing cacher: the reflector's warning, then the cacher's error."""
    return [
        header("W", t, "reflector.go:424") +
        f'storage/cacher.go:/secrets: failed to list *core.Secret: unable to transform key '
        f'"{BAD_KEY}": invalid padding on input',
        header("E", t + datetime.timedelta(microseconds=31), "cacher.go:419") +
        f'cacher (*core.Secret): unexpected ListAndWatch error: failed to list *core.Secret: '
        f'unable to transform key "{BAD_KEY}": invalid padding on input; reinitializing...',
    ]


def watch_error_lines(t):
    return [header("E", t, "watcher.go:327") +
            "failed to prepare current and previous objects: invalid padding on input"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, required=True, help="size to write, in MiB")
    ap.add_argument("--out", required=True, help="output path (outside the repository)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--loop-seconds", type=float, default=1.0, help="cacher error loop period")
    ap.add_argument("--only-errors", action="store_true", help="only encryption error lines")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    target = int(args.mb * 1024 * 1024)
    t = datetime.datetime(2021, 11, 16, 20, 0, 0)
    next_loop = t + datetime.timedelta(seconds=args.loop_seconds)
    written = 0
    buf = []
    buf_len = 0
    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        while written < target:
            t += datetime.timedelta(microseconds=rng.randint(50, 1200))
            if args.only_errors:
                lines = loop_lines(t) if rng.random() < 0.9 else watch_error_lines(t)
            elif t >= next_loop:
                lines = loop_lines(t)
                t += datetime.timedelta(microseconds=31)
                next_loop = t + datetime.timedelta(seconds=args.loop_seconds * rng.uniform(0.97, 1.03))
            elif rng.random() < 0.00005:
                lines = watch_error_lines(t)
            else:
                lines = normal_lines(rng, t)
            text = "\n".join(lines) + "\n"
            buf.append(text)
            buf_len += len(text)
            if buf_len > 1 << 20:
                chunk = "".join(buf)
                out.write(chunk)
                written += len(chunk.encode())
                buf, buf_len = [], 0
        if buf:
            out.write("".join(buf))
    print(f"wrote {args.out}: about {args.mb:g} MiB, last time {t:%m-%d %H:%M:%S}", file=sys.stderr)


if __name__ == "__main__":
    main()
