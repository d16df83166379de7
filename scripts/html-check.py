#!/usr/bin/env python3
"""Renders etcd-autopsy's HTML reports in a real headless Chromium and checks they render right.

    scripts/html-check.py --out DIR [--bin PATH] [--width 760 --width 1400] [REPORT.html ...]

Without REPORT files it makes the three reports from testdata (the incident with its logs, the
OpenShift backup pair, `demo`) with the binary (default target/debug/etcd-autopsy) into a
temporary directory; inputs are only read. For every report and width it loads the page in
Debian's `chromium` (headless, no sandbox, no GPU, no network services, a throw-away profile),
driven over the DevTools protocol on a pipe (--remote-debugging-pipe, Python stdlib only), and
fails when:

- the page logs a console error or warning, throws, or asks for anything but file:/data: URLs;
- the page scrolls sideways (document wider than the viewport);
- an element is wider than its column: its content sticks out of a box whose overflow is
  visible (boxes styled to scroll, like the node x key table's, may scroll inside themselves);
- the timeline SVG is not as wide as its column, or the <title> lacks the verdict.

The same checks run once more with the print stylesheet (emulated print media) on an A4 page's
text width (NAME-print.png).

A full-page screenshot of each (NAME-WIDTH.png, and NAME-WIDTH-timeline.png of the timeline)
goes into DIR, which must not be a directory
holding an input. Exit 0 when all pass, 1 on a failed check, 2 on a usage or setup error, 4
when chromium is not installed (so a test can skip with the reason).
"""
import argparse
import base64
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

# A4 (210 mm) less 10 mm margins each side, at CSS's 96 px per inch.
PRINT_WIDTH = round((210 - 20) / 25.4 * 96)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]

# Runs in the page after load; returns what overflows. A box "overflows" when its content is
# wider than its padding box and its overflow-x is visible (so the excess spills over its
# column); boxes that scroll (overflow-x auto/scroll) contain their content by design.
MEASURE = r"""
(() => {
  const vw = document.documentElement.clientWidth;
  const out = {viewport: vw, page_scroll_width: document.documentElement.scrollWidth,
               overflowing: [], scrolling: [], svg: null, title: document.title};
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '');
  for (const e of document.body.querySelectorAll('*')) {
    if (e.closest('svg') && e.tagName.toLowerCase() !== 'svg') continue;
    const cs = getComputedStyle(e);
    if (cs.display === 'inline' || cs.display === 'none') continue;
    const excess = e.scrollWidth - e.clientWidth;
    if (excess > 1) {
      if (cs.overflowX === 'auto' || cs.overflowX === 'scroll') {
        out.scrolling.push({el: name(e), excess});
      } else if (cs.overflowX !== 'hidden' && cs.overflowX !== 'clip') {
        out.overflowing.push({el: name(e), excess, text: (e.textContent || '').slice(0, 80)});
      }
    }
    const r = e.getBoundingClientRect();
    const up = e.parentElement && e.parentElement.getBoundingClientRect();
    // Only the outermost element beyond the viewport: its descendants are the same fault.
    if (r.right > vw + 1 && !e.closest('.scroll') && !(up && up.right > vw + 1)) {
      out.overflowing.push({el: name(e), excess: r.right - vw, text: 'beyond the viewport'});
    }
  }
  const svg = document.getElementById('timeline');
  if (svg) {
    const p = svg.parentElement.getBoundingClientRect();
    const s = svg.getBoundingClientRect();
    const cs = getComputedStyle(svg.parentElement);
    const inner = p.width - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    out.svg = {width: s.width, column: inner, rows: svg.querySelectorAll('line[stroke="#bbb"]').length,
               restarts: svg.querySelectorAll('line.restart').length,
               ticks: svg.querySelectorAll('text.axis').length};
  }
  out.height = document.documentElement.scrollHeight;
  return out;
})()
"""


class Browser:
    """Chromium over --remote-debugging-pipe: requests on fd 3, replies on fd 4, NUL-separated."""

    def __init__(self):
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            print("chromium not installed (apt-get install chromium)", file=sys.stderr)
            sys.exit(4)
        self.profile = tempfile.mkdtemp(prefix="html-check-profile-")
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        # The child must see the pipes as fds 3 and 4.
        # (Through fds >= 10 first, so neither dup2 overwrites the other pipe's end.)
        def fds():
            import fcntl

            r, w = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)
        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=fds,
            # Every other descriptor of ours is close-on-exec (PEP 446); 3 and 4 must survive.
            close_fds=False,
        )
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        want = self.next_id
        deadline = time.time() + timeout
        while True:
            m = self.read(deadline)
            if m.get("id") == want:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def read(self, deadline):
        import select

        while b"\0" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            r, _, _ = select.select([self.from_r], [], [], left)
            if r:
                chunk = os.read(self.from_r, 1 << 20)
                if not chunk:
                    err = self.proc.stderr.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"chromium exited: {err}")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def wait_event(self, method, session, timeout=30):
        deadline = time.time() + timeout
        for i, m in enumerate(self.events):
            if m.get("method") == method and m.get("sessionId") == session:
                del self.events[i]
                return m
        while True:
            m = self.read(deadline)
            if m.get("method") == method and m.get("sessionId") == session:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def problems_of(events, session):
    """Console errors/warnings, exceptions and non-local requests among the page's events."""
    out = []
    for m in events:
        if m.get("sessionId") != session:
            continue
        meth, p = m.get("method"), m.get("params", {})
        if meth == "Runtime.exceptionThrown":
            out.append(f"exception: {p['exceptionDetails'].get('text')}")
        elif meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            out.append(f"console.{p['type']}: {args}")
        elif meth == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
            e = p["entry"]
            out.append(f"log {e['level']}: {e.get('text')} {e.get('url', '')}")
        elif meth == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if not url.startswith(("file:", "data:", "about:")):
                out.append(f"network request: {url}")
    return out


def check_page(b, path, width, shot, media="screen"):
    t = b.send("Target.createTarget", {"url": "about:blank"})
    s = b.send("Target.attachToTarget", {"targetId": t["targetId"], "flatten": True})["sessionId"]
    for d in ("Page", "Runtime", "Log", "Network"):
        b.send(f"{d}.enable", session=s)
    b.send("Emulation.setEmulatedMedia", {"media": media}, session=s)
    b.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        session=s,
    )
    url = pathlib.Path(os.path.abspath(path)).as_uri()  # quotes spaces, '#', '%'
    b.send("Page.navigate", {"url": url}, session=s)
    b.wait_event("Page.loadEventFired", s)
    m = b.send(
        "Runtime.evaluate", {"expression": MEASURE, "returnByValue": True}, session=s
    )["result"]["value"]
    errors = problems_of(b.events, s)
    if m["page_scroll_width"] > m["viewport"] + 1:
        errors.append(f"page scrolls sideways: {m['page_scroll_width']} px > {m['viewport']} px")
    for o in m["overflowing"]:
        errors.append(f"{o['el']} overflows its column by {o['excess']:.0f} px: {o['text']!r}")
    if m["svg"] is not None:
        sv = m["svg"]
        if abs(sv["width"] - sv["column"]) > 2:
            errors.append(f"timeline SVG is {sv['width']:.0f} px in a {sv['column']:.0f} px column")
        if sv["ticks"] < 2:
            errors.append("timeline has no axis ticks")
    verdicts = ("OK", "NOT VERIFIED", "PROBLEMS", "DAMAGED")
    if not any(m["title"].startswith(v) for v in verdicts):
        errors.append(f"<title> does not start with the verdict: {m['title']!r}")
    # Full page: grow the viewport to the document's height (capped), then capture.
    h = min(max(int(m["height"]), 200), 12000)
    b.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": h, "deviceScaleFactor": 1, "mobile": False},
        session=s,
    )
    png = b.send("Page.captureScreenshot", {"format": "png"}, session=s)["data"]
    with open(shot, "wb") as f:
        f.write(base64.b64decode(png))
    if m["svg"] is not None:
        # The timeline alone, at twice the pixels, to look at its ticks and marks.
        r = b.send(
            "Runtime.evaluate",
            {
                "expression": "(() => { const r = document.getElementById('timeline')"
                ".getBoundingClientRect(); return [r.x, r.y + window.scrollY, r.width, r.height]; })()",
                "returnByValue": True,
            },
            session=s,
        )["result"]["value"]
        clip = {"x": r[0], "y": r[1], "width": r[2], "height": r[3] + 40, "scale": 2}
        png = b.send("Page.captureScreenshot", {"format": "png", "clip": clip}, session=s)["data"]
        with open(shot[: -len(".png")] + "-timeline.png", "wb") as f:
            f.write(base64.b64decode(png))
    b.send("Target.closeTarget", {"targetId": t["targetId"]})
    return m, errors


def make_reports(binary, tmp):
    """The three testdata reports, written into tmp (never next to the inputs)."""
    td = lambda p: os.path.join(ROOT, "testdata", p)
    fixed = ["--fixed-time", "2026-11-22T00:00:00Z", "-o", "html", "--color", "never", "-q"]
    incident = ["report", "--snapshot", td("incident/snapshot.db")]
    for n in ("master-1", "master-2", "master-3"):
        incident += ["--encryption-config", f"{n}={td('incident/' + n + '.yaml')}"]
        incident += ["--log", f"{n}={td('incident/' + n + '.log')}"]
    runs = {
        "incident": incident,
        "openshift": [
            "report",
            "--snapshot",
            td("openshift/snapshot_2026-11-01_120000.db"),
            "--static-resources",
            td("openshift/static_kuberesources_2026-11-01_120000.tar.gz"),
        ],
        "demo": ["demo"],
    }
    out = []
    for name, args in runs.items():
        path = os.path.join(tmp, f"{name}.html")
        p = subprocess.run([binary, *args, *fixed, "--output-file", path], capture_output=True)
        # Exit 1 is "problems found": the report is still written.
        if p.returncode not in (0, 1) or not os.path.exists(path):
            print(f"{name}: {binary} exited {p.returncode}: {p.stderr.decode()}", file=sys.stderr)
            sys.exit(2)
        out.append((name, path))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="directory for the screenshots")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/debug/etcd-autopsy"))
    ap.add_argument("--width", type=int, action="append", help="viewport widths (760, 1400)")
    ap.add_argument("reports", nargs="*", help="HTML reports to check instead of testdata's")
    a = ap.parse_args()
    widths = a.width or [760, 1400]
    out = os.path.abspath(a.out)
    inputs = [os.path.abspath(r) for r in a.reports] or [os.path.join(ROOT, "testdata")]
    for i in inputs:
        d = i if os.path.isdir(i) else os.path.dirname(i)
        if out == d or out.startswith(d + os.sep):
            print(f"--out {a.out}: holds an input ({i}); name another directory", file=sys.stderr)
            return 2
    for r in a.reports:
        if not os.path.isfile(r):
            print(f"{r}: no such file", file=sys.stderr)
            return 2
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="html-check-") as tmp:
        if a.reports:
            reports = [(os.path.splitext(os.path.basename(r))[0], r) for r in a.reports]
        else:
            if not os.access(a.bin, os.X_OK):
                print(f"{a.bin}: no binary (cargo build first, or --bin)", file=sys.stderr)
                return 2
            reports = make_reports(a.bin, tmp)
        b = Browser()
        failed = 0
        try:
            for name, path in reports:
                # The screen widths, then the print stylesheet on an A4 page's text width.
                for w, media in [(w, "screen") for w in widths] + [(PRINT_WIDTH, "print")]:
                    label = f"{w}" if media == "screen" else "print"
                    shot = os.path.join(out, f"{name}-{label}.png")
                    m, errors = check_page(b, path, w, shot, media)
                    sv = m["svg"]
                    extra = ""
                    if sv:
                        extra = (f", timeline {sv['width']:.0f}/{sv['column']:.0f} px, "
                                 f"{sv['rows']} rows, {sv['restarts']} restarts, {sv['ticks']} ticks")
                    scroll = (", scrolls inside: " + " ".join(f"{x['el']} (+{x['excess']} px)" for x in m["scrolling"])) if m["scrolling"] else ""
                    status = "FAIL" if errors else "ok"
                    print(f"{status} {name} @{w}px {media}: page {m['page_scroll_width']}/{m['viewport']} px"
                          f"{extra}{scroll} -> {shot}")
                    for e in errors:
                        print(f"  {e}")
                    failed += bool(errors)
        finally:
            b.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
