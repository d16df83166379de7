#!/usr/bin/env python3
"""Big EncryptionConfigurations under the 4 MiB cap for tests/hostile.rs (issue #18 item 5),
and configs whose names carry terminal escapes (item 2).

    make_configs.py OUTDIR

  many-resources.yaml  one entry with 150,000 resources (secrets last), aescbc + identity
  many-keys.yaml       one aescbc provider with 40,000 keys (the key that matters last)
  many-entries.yaml    30,000 resource entries of one resource each
  escapes.yaml         a key name and a resource name with ESC/CR/BEL
  wrong-kind.yaml      a key pasted into `kind` and `apiVersion` (must not be echoed)
  long-name.yaml       a 70,000-character key name
"""
import base64
import os
import sys

KEY = base64.b64encode(b"HOSTILE-CONFIG-KEY-0123456789abc").decode()
HEAD = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"


def key(i):
    return base64.b64encode(("k%031d" % i).encode()).decode()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    w = lambda n, s: open(os.path.join(out, n), "w").write(s)
    res = "".join("  - r%d.example.com\n" % i for i in range(150000))
    w("many-resources.yaml", HEAD + "- resources:\n" + res + "  - secrets\n  providers:\n"
      "  - aescbc:\n      keys:\n      - name: k\n        secret: " + KEY + "\n  - identity: {}\n")
    keys = "".join("      - name: n%d\n        secret: %s\n" % (i, key(i)) for i in range(40000))
    w("many-keys.yaml", HEAD + "- resources:\n  - secrets\n  providers:\n  - aescbc:\n      keys:\n"
      + keys + "      - name: k\n        secret: " + KEY + "\n  - identity: {}\n")
    entries = "".join(
        "- resources: [r%d]\n  providers: [{identity: {}}]\n" % i for i in range(30000))
    w("many-entries.yaml", HEAD + entries + "- resources: [secrets]\n  providers:\n"
      "  - aescbc: {keys: [{name: k, secret: " + KEY + "}]}\n  - identity: {}\n")
    w("escapes.yaml", HEAD + '- resources:\n  - "secrets\\e[2J"\n  - "cm\\rALL GOOD"\n'
      '  providers:\n  - aescbc:\n      keys:\n      - name: "k\\e]0;pwned\\a"\n        secret: '
      + KEY + "\n  - identity: {}\n")
    w("wrong-kind.yaml", "apiVersion: " + KEY + "\nkind: " + KEY + "\nresources: []\n")
    w("long-name.yaml", HEAD + "- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n"
      "      - name: " + "n" * 70000 + "\n        secret: " + KEY + "\n  - identity: {}\n")
    w("KEY", KEY)


if __name__ == "__main__":
    main()
