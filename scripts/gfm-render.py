#!/usr/bin/env python3
"""Markdown on stdin -> HTML on stdout, through cmark-gfm (Python `cmarkgfm`), the renderer
GitHub uses. Raw HTML is kept (CMARK_OPT_UNSAFE), as GitHub does before its own allow-list
sanitiser, so `<details>` blocks render as they would there. The GFM extensions (tables,
strikethrough, autolink, tagfilter, tasklist) are those `github_flavored_markdown_to_html`
enables.

Exit 4 with a reason on stderr when cmarkgfm is not installed, so a caller can skip.
"""
import sys

try:
    import cmarkgfm
    from cmarkgfm.cmark import Options
except ImportError as e:  # pragma: no cover
    print(f"cmarkgfm not installed ({e}); pip install cmarkgfm", file=sys.stderr)
    sys.exit(4)

text = sys.stdin.buffer.read().decode("utf-8")
sys.stdout.write(
    cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
)
