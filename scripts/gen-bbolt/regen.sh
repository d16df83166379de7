#!/bin/bash
# Regenerates testdata/versions/: builds gen-bbolt against Debian's bbolt 1.3.6 and etcd 3.4.23
# sources (GOPATH mode, GO111MODULE=off, nothing downloaded), writes the etcd 3.5/3.6-shaped
# files, damages copies, and records reference answers in testdata/versions/expected.json:
#   - bbolt 1.3.6 (Debian): tx.Check() list, and status under 3.5 and 3.6 rules when it is empty;
#   - bbolt 1.3.9 (optional, BBOLT_SRC=<checkout of go.etcd.io/bbolt at v1.3.9>; the last tag
#     Go 1.19 builds; tx_check.go as in v1.4.x): the same with the key-range rule.
# A bbolt that panics (no persisted freelist + a tree problem: db.go freepages) is recorded as
# {"panic": first line}.
#
# Needs: etcd-client (etcdctl 3.4), golang-go (1.19), golang-github-olekukonko-tablewriter-dev,
# golang-github-dustin-go-humanize-dev, golang-github-coreos-bbolt-dev, golang-etcd-server-dev,
# golang-github-coreos-go-semver-dev, python3. Run from the repository root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-testdata/versions}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GO111MODULE=off GOCACHE=$tmp/cache GOFLAGS=
(cd "$here" && GOPATH=/usr/share/gocode go build -o "$tmp/gen-136" .)
bins=("$tmp/gen-136:1.3.6")
if [ -n "${BBOLT_SRC:-}" ]; then
  g=$tmp/gopath; mkdir -p "$g/src/go.etcd.io" "$g/src/github.com"
  cp -r "$BBOLT_SRC" "$g/src/go.etcd.io/bbolt"
  for d in /usr/share/gocode/src/github.com/*; do ln -s "$d" "$g/src/github.com/"; done
  ln -s /usr/share/gocode/src/go.etcd.io/etcd "$g/src/go.etcd.io/etcd"
  for d in /usr/share/gocode/src/*; do [ -e "$g/src/$(basename "$d")" ] || ln -s "$d" "$g/src/"; done
  (cd "$here" && GOPATH=$g go build -o "$tmp/gen-139" .)
  bins+=("$tmp/gen-139:1.3.9")
fi
mkdir -p "$tmp/made"
"$tmp/gen-136" gen "$tmp/made"
m=$tmp/made
"$tmp/gen-136" damage branch-above-child "$m/v35-array-persist-4k.db" "$m/damaged-branch-above-child-persist.db"
"$tmp/gen-136" damage branch-above-child "$m/v35-map-nofreelist-4k.db" "$m/damaged-branch-above-child-nofreelist.db"
"$tmp/gen-136" damage branch-below-prev "$m/v35-array-persist-4k.db" "$m/damaged-branch-below-prev-persist.db"
"$tmp/gen-136" damage leaf-swap "$m/v36-map-nofreelist-16k.db" "$m/damaged-leaf-swap-nofreelist.db"
"$tmp/gen-136" damage leaf-swap "$m/v36-array-persist-64k.db" "$m/damaged-leaf-swap-persist.db"
"$tmp/gen-136" damage freelist-dup "$m/v36-map-persist-1k.db" "$m/damaged-freelist-dup.db"
"$tmp/gen-136" damage freelist-badcount "$m/v36-map-persist-1k.db" "$m/damaged-freelist-badcount.db"
for f in "$m"/*.db; do
  for b in "${bins[@]}"; do
    if ! "${b%%:*}" ref "${b##*:}" "$f" >"$tmp/ref.out" 2>"$tmp/ref.err"; then
      p=$(grep -m1 '^panic' "$tmp/ref.err" || head -1 "$tmp/ref.err")
      python3 -c 'import json,sys; print(sys.argv[1]+"\t"+json.dumps({"bbolt":sys.argv[2],"panic":sys.argv[3]}))' "$f" "${b##*:}" "$p" >"$tmp/ref.out"
    fi
    cat "$tmp/ref.out" >>"$tmp/refs.tsv"
  done
done
# Reference output bytes of every undamaged file in every format: etcdctl 3.4 (real, Debian
# etcd-client; etcdutl 3.5's printers are the same code) and etcdutl 3.6's printers.
mkdir -p "$tmp/print"
for f in "$m"/v3*.db; do
  n=$(basename "$f" .db)
  for w in json table simple fields; do
    etcdctl snapshot status -w "$w" "$f" >"$tmp/print/$n~etcdctl-3.4~$w"
    "$tmp/gen-136" print "$w" "$f" >"$tmp/print/$n~etcdutl-3.6~$w"
  done
done
mkdir -p "$out"
python3 - "$tmp/refs.tsv" "$out" "$m" <<'PY'
import json, os, sys, gzip, shutil
refs, out, made = sys.argv[1:4]
exp = {}
for line in open(refs):
    path, j = line.rstrip("\n").split("\t", 1)
    name = os.path.basename(path)
    exp.setdefault(name, {})["bbolt-" + json.loads(j)["bbolt"]] = json.loads(j)
for name in sorted(exp):
    src = os.path.join(made, name)
    if os.path.getsize(src) > 512 << 10:
        # Big files are committed gzipped; tests inflate a copy.
        with open(src, "rb") as i, gzip.GzipFile(os.path.join(out, name + ".gz"), "wb", 9, mtime=0) as o:
            shutil.copyfileobj(i, o)
        exp[name]["gzipped"] = True
    else:
        shutil.copyfile(src, os.path.join(out, name))
pr = os.path.join(os.path.dirname(refs), "print")
for p in sorted(os.listdir(pr)):
    n, tool, fmt = p.split("~")
    exp[n + ".db"].setdefault("printed", {}).setdefault(tool, {})[fmt] = open(os.path.join(pr, p)).read()
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(exp, f, indent=2, sort_keys=True)
    f.write("\n")
PY
ls -la "$out"
