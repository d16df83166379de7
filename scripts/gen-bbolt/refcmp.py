#!/usr/bin/env python3
"""Compares etcd-autopsy with bbolt itself on every *.db in a directory.

    python3 scripts/gen-bbolt/refcmp.py BIN DIR GEN-BBOLT:NAME [GEN-BBOLT:NAME ...]

GEN-BBOLT is a gen-bbolt binary (scripts/gen-bbolt, built against some bbolt) and NAME its bbolt
version. For each file and each binary, `gen-bbolt ref` gives bbolt's tx.Check() list and, when
it is empty, the 3.5 and 3.6 status numbers computed with bbolt's API. The last binary named is
the one whose check rules must equal ours (bbolt >= 1.3.7); with every binary the status numbers
must equal `status -w extended` (hash, revision, pairs, liveKeys, totalSize, version).
A bbolt that panics or runs out of memory is listed, with our finding beside it.
Exit 0 when everything compared equal.
"""
import json
import os
import subprocess
import sys


def fact(line, ours):
    """A problem line reduced to what bbolt's wording and ours both carry."""
    if "key[" not in line:
        return line.split(" (stack")[0]
    key = line[line.find("key["):].split(" ")[0]
    if ours:
        kinds = [("of its element in", "ancestor"), ("the previous key", "previous"),
                 ("not below the next", "next")]
    else:
        kinds = [("the key in the ancestor", "ancestor"), ("previous element", "previous"),
                 ("key of the next element", "next")]
    kind = next((k for marker, k in kinds if marker in line), "?")
    if kind == "previous":
        kind += "(=)" if ("found =" in line or "equal to" in line) else "(<)"
    return kind + " " + key


def main():
    binary, directory, refs = sys.argv[1], sys.argv[2], [r.split(":", 1) for r in sys.argv[3:]]
    bad, counts = [], {"files": 0, "status equal": 0, "check equal": 0, "bbolt died": 0}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".db"):
            continue
        path = os.path.join(directory, name)
        counts["files"] += 1
        p = subprocess.run([binary, "status", "-w", "extended", path], capture_output=True, text=True)
        ours = json.loads(p.stdout)
        for i, (gen, version) in enumerate(refs):
            last = i == len(refs) - 1
            r = subprocess.run([gen, "ref", version, path], capture_output=True, text=True)
            if r.returncode != 0:
                if last:
                    counts["bbolt died"] += 1
                    first = (r.stderr.splitlines() or ["?"])[0][:160]
                    print(f"  {name}: bbolt {version}: {first}\n    ours: {ours['problems'][:2]}")
                continue
            ref = json.loads(r.stdout.split("\t", 1)[1])
            if last:
                want = sorted(fact(l, False) for l in ref["check"])
                got = sorted(fact(l, True) for l in ours["problems"])
                if want == got:
                    counts["check equal"] += 1
                else:
                    bad.append(f"{name}: check: bbolt {version} {ref['check'][:3]} ours {ours['problems'][:3]}")
            if ref["check"]:
                continue
            s5, s6 = ref["status_3_5"], ref["status_3_6"]
            want = (s5["hash"], s5["revision"], s5["totalKey"], s5["totalSize"], s6["totalKey"], s6.get("version", ""))
            got = (ours["hash"], ours["revision"], ours["pairs"], ours["totalSize"], ours["liveKeys"], ours["version"])
            if want != got:
                bad.append(f"{name}: status: bbolt {version} {want} ours {got}")
            elif last:
                counts["status equal"] += 1
    print("refcmp: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for b in bad:
        print("  DIFFER " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
