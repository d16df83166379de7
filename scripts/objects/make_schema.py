#!/usr/bin/env python3
"""Builds src/kube/decode/schema.fds, the protobuf schema `get -o`/`export` decode with.

Usage: make_schema.py KUBERNETES_API_GIT APIMACHINERY_GIT OPENSHIFT_API_GIT OUT.fds

The inputs are git clones of github.com/kubernetes/api, kubernetes/apimachinery and
openshift/api (all Apache-2.0). Only their published `generated.proto` files are used, compiled
with protoc into a FileDescriptorSet:

1. the newest commit of each (plus apiextensions-apiserver's protos as vendored by openshift/api);
2. older Kubernetes releases (LEGACY_TAGS), newest first: fields that were removed since
   (ObjectMeta.clusterName = 15, …) are added back to the message they belonged to, and whole
   messages of removed API versions (batch/v2alpha1, extensions/v1beta1 PodSecurityPolicy, …)
   are added in one extra file per package, so objects written by old apiservers still decode.
   Field numbers are never reused in Kubernetes APIs (api-conventions), so merging is safe.

Writes a summary of sources and counts to stdout; schema.md next to the output records it.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2

LEGACY_TAGS = ["v0.24.0", "v0.21.0", "v0.18.0", "kubernetes-1.12.0"]


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True).stdout


def export(repo, rev, dest, keep):
    """Writes every generated.proto of `repo` at `rev` whose path `keep` accepts under dest."""
    names = git(repo, "ls-tree", "-r", "--name-only", rev).decode().split("\n")
    for n in names:
        if not n.endswith(".proto") or not keep(n):
            continue
        out = os.path.join(dest, n)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(git(repo, "show", f"{rev}:{n}"))


def compile_tree(root):
    files = sorted(
        os.path.relpath(os.path.join(d, f), root)
        for d, _, fs in os.walk(root)
        for f in fs
        if f.endswith(".proto")
    )
    out = os.path.join(root, "out.fds")
    subprocess.run(
        ["protoc", "-I", root, "--include_imports", "-o", out, *files],
        check=True,
        capture_output=True,
    )
    s = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as f:
        s.ParseFromString(f.read())
    return s


def tree(api, machinery, openshift, api_rev, machinery_rev, with_openshift):
    root = tempfile.mkdtemp()
    export(api, api_rev, os.path.join(root, "k8s.io/api"), lambda n: n.endswith("generated.proto"))
    export(
        machinery,
        machinery_rev,
        os.path.join(root, "k8s.io/apimachinery"),
        lambda n: "testapigroup" not in n,
    )
    if with_openshift:
        osdir = os.path.join(root, "github.com/openshift/api")
        export(openshift, "HEAD", osdir, lambda n: n.endswith("generated.proto") and not n.startswith(("tests/", "vendor/", "tools/")))
        vend = "tools/vendor/k8s.io/apiextensions-apiserver/"
        export(
            openshift,
            "HEAD",
            os.path.join(root, "k8s.io/apiextensions-apiserver"),
            lambda n: n.startswith(vend) and n.endswith("generated.proto"),
        )
        # export() kept the vendor path; move it to its import path.
        src = os.path.join(root, "k8s.io/apiextensions-apiserver", vend)
        dst = os.path.join(root, "k8s.io/apiextensions-apiserver/pkg")
        shutil.move(os.path.join(src, "pkg"), dst)
        shutil.rmtree(os.path.join(root, "k8s.io/apiextensions-apiserver/tools"))
    try:
        return compile_tree(root)
    finally:
        shutil.rmtree(root)


def messages(fds):
    """full name ('.pkg.Msg') -> DescriptorProto, top-level and nested."""
    out = {}

    def walk(prefix, msgs):
        for m in msgs:
            full = f"{prefix}.{m.name}"
            out[full] = m
            walk(full, m.nested_type)

    for f in fds.file:
        walk("." + f.package, f.message_type)
    return out


def merge(base, old, tag):
    known = messages(base)
    old_msgs = messages(old)
    added_fields = 0
    extra = {}  # package -> FileDescriptorProto
    files_by_pkg = {}
    for f in base.file:
        files_by_pkg.setdefault(f.package, f)
    for f in old.file:
        for m in f.message_type:
            full = f".{f.package}.{m.name}"
            if full in known:
                have = known[full]
                nums = {x.number for x in have.field}
                names = {x.name for x in have.field}
                nested = {n.name for n in have.nested_type}
                for fld in m.field:
                    if fld.number in nums or fld.name in names:
                        continue
                    if fld.type_name and fld.type_name not in known:
                        # A map entry nested in the old message comes along with its field.
                        local = fld.type_name.rsplit(".", 1)[-1]
                        entry = [n for n in m.nested_type if n.name == local]
                        if fld.type_name == f"{full}.{local}" and entry and local not in nested:
                            have.nested_type.add().CopyFrom(entry[0])
                            known[fld.type_name] = have.nested_type[-1]
                        else:
                            continue
                    have.field.add().CopyFrom(fld)
                    added_fields += 1
            else:
                e = extra.get(f.package)
                if e is None:
                    e = descriptor_pb2.FileDescriptorProto(
                        name=f"legacy/{tag}/{f.package}.proto", package=f.package, syntax="proto2"
                    )
                    e.options.go_package = f.options.go_package or "legacy"
                    extra[f.package] = e
                e.message_type.add().CopyFrom(m)
    # Legacy messages may refer to types only in other legacy files or in the base set.
    all_known = dict(known)
    for e in extra.values():
        for m in e.message_type:
            all_known[f".{e.package}.{m.name}"] = m
            for n in m.nested_type:
                all_known[f".{e.package}.{m.name}.{n.name}"] = n
    base_names = [f.name for f in base.file]
    for e in extra.values():
        for m in e.message_type:
            keep = [x for x in m.field if not x.type_name or x.type_name in all_known]
            del m.field[:]
            m.field.extend(keep)
    order = []
    for pkg in sorted(extra):
        e = extra[pkg]
        e.dependency.extend(base_names)
        order.append(e)
    # Extra files may depend on each other; put them after the base, and each may import the
    # earlier ones only, so drop fields whose type lives in a later extra file.
    seen = {}
    for e in order:
        local = {f".{e.package}.{m.name}" for m in e.message_type}
        for m in e.message_type:
            local |= {f".{e.package}.{m.name}.{n.name}" for n in m.nested_type}
        visible = set(known) | local | set().union(*seen.values()) if seen else set(known) | local
        for m in e.message_type:
            keep = [x for x in m.field if not x.type_name or x.type_name in visible]
            del m.field[:]
            m.field.extend(keep)
        e.dependency.extend(seen.keys())
        seen[e.name] = local
        base.file.add().CopyFrom(e)
    return added_fields, sum(len(e.message_type) for e in order)


FIELD = re.compile(r"^\s*(?:(\w+)\s+)?(\*?[\w.\[\]*]+)\s+`([^`]*)`", re.M)
STRUCT = re.compile(r"^type (\w+) struct \{(.*?)^\}", re.M | re.S)


def go_fields(repo, rev, proto_pkg_of, out):
    """Reads Go struct tags from types*.go: for each (message, field number) whether the field is
    inlined into its parent's JSON (`json:",inline"`, or embedded without a name), `omitempty`,
    or a pointer. The first (newest) answer for a field wins."""
    names = git(repo, "ls-tree", "-r", "--name-only", rev).decode().split("\n")
    for n in names:
        if not n.endswith(".go") or "/types" not in "/" + n.rsplit("/", 1)[-1] and "types" not in n:
            continue
        if n.endswith("_test.go") or "zz_generated" in n or "swagger" in n or "/vendor/" in n or n.startswith(("vendor/", "tests/", "tools/")):
            continue
        pkg = proto_pkg_of(os.path.dirname(n))
        if pkg is None:
            continue
        src = git(repo, "show", f"{rev}:{n}").decode("utf-8", "replace")
        for sm in STRUCT.finditer(src):
            msg = f"{pkg}.{sm.group(1)}"
            for fm in FIELD.finditer(sm.group(2)):
                name, typ, tag = fm.group(1), fm.group(2), fm.group(3)
                pm = re.search(r'protobuf:"[a-z0-9]+,(\d+),', tag)
                if not pm:
                    continue
                jm = re.search(r'json:"([^"]*)"', tag)
                jname = jm.group(1) if jm else ""
                jbase = jname.split(",")[0]
                flags = ""
                if name is None and jbase == "" or jname.startswith(",inline") or ",inline" in jname:
                    flags += "i"
                if "omitempty" in jname:
                    flags += "o"
                if typ.startswith("*"):
                    flags += "p"
                out.setdefault(msg, {}).setdefault(int(pm.group(1)), flags or "-")


def k8s_pkg(d):
    return "k8s.io.api." + d.replace("/", ".") if d.count("/") == 1 else None


def machinery_pkg(d):
    return "k8s.io.apimachinery." + d.replace("/", ".") if d.startswith("pkg/") else None


def openshift_pkg(d):
    return "github.com.openshift.api." + d.replace("/", ".") if d.count("/") == 1 else None


def apiext_pkg(d):
    v = "tools/vendor/k8s.io/apiextensions-apiserver/"
    if d.startswith(v + "pkg/apis/apiextensions/"):
        return "k8s.io.apiextensions_apiserver." + d[len(v):].replace("/", ".")
    return None


def main():
    api, machinery, openshift, out = sys.argv[1:5]
    base = tree(api, machinery, openshift, "HEAD", "HEAD", True)
    print(f"base: k8s.io/api {git(api, 'rev-parse', 'HEAD').decode().strip()}")
    print(f"      k8s.io/apimachinery {git(machinery, 'rev-parse', 'HEAD').decode().strip()}")
    print(f"      openshift/api {git(openshift, 'rev-parse', 'HEAD').decode().strip()}")
    for tag in LEGACY_TAGS:
        old = tree(api, machinery, openshift, tag, tag, False)
        fields, msgs = merge(base, old, tag)
        print(f"legacy {tag}: +{fields} removed fields, +{msgs} removed messages")
    go = {}
    go_fields(api, "HEAD", k8s_pkg, go)
    go_fields(machinery, "HEAD", machinery_pkg, go)
    go_fields(openshift, "HEAD", openshift_pkg, go)
    go_fields(openshift, "HEAD", apiext_pkg, go)
    for tag in LEGACY_TAGS:
        go_fields(api, tag, k8s_pkg, go)
        go_fields(machinery, tag, machinery_pkg, go)
    gopath = os.path.join(os.path.dirname(out), "gofields.txt")
    with open(gopath, "w") as f:
        f.write("# message field:flags (i inline, o omitempty, p pointer, - none); made by scripts/objects/make_schema.py\n")
        for msg in sorted(go):
            f.write(msg + " " + " ".join(f"{k}:{v}" for k, v in sorted(go[msg].items())) + "\n")
    print(f"{gopath}: Go JSON tags of {len(go)} messages")
    for f in base.file:
        f.ClearField("source_code_info")
    with open(out, "wb") as f:
        f.write(base.SerializeToString(deterministic=True))
    print(f"{out}: {len(base.file)} files, {len(messages(base))} messages")


if __name__ == "__main__":
    main()
