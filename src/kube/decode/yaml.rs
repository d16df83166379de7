//! [`Node`] → YAML, the way `kubectl get -o yaml` lays it out (two-space indent, list items at
//! their key's indentation), with conservative quoting: a string is written bare only when no
//! YAML 1.1 or 1.2 reader could take it for anything else (a number, a bool, null, a timestamp,
//! an indicator); every other string is double-quoted with JSON escapes, which YAML's
//! double-quoted style accepts as is. So `kubectl apply`, PyYAML and Go's yaml read back the
//! same strings (`"2020-08-07T14:21:12Z"` stays a string, `"on"` is not true).

use super::node::Node;
use std::fmt::Write;

/// One YAML document (no `---`), ending with a newline.
pub fn to_yaml(n: &Node) -> String {
    let mut out = String::new();
    match n {
        Node::Object(m) if !m.is_empty() => map(&mut out, m, 0),
        Node::Array(a) if !a.is_empty() => seq(&mut out, a, 0),
        other => {
            scalar(&mut out, other);
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn map(out: &mut String, m: &[(String, Node)], ind: usize) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            indent(out, ind);
        }
        string(out, k);
        out.push(':');
        value_after_key(out, v, ind);
    }
}

fn value_after_key(out: &mut String, v: &Node, ind: usize) {
    match v {
        Node::Object(m) if !m.is_empty() => {
            out.push('\n');
            indent(out, ind + 2);
            map(out, m, ind + 2);
        }
        Node::Array(a) if !a.is_empty() => {
            out.push('\n');
            indent(out, ind);
            seq(out, a, ind);
        }
        other => {
            out.push(' ');
            scalar(out, other);
            out.push('\n');
        }
    }
}

fn seq(out: &mut String, a: &[Node], ind: usize) {
    for (i, v) in a.iter().enumerate() {
        if i > 0 {
            indent(out, ind);
        }
        out.push_str("- ");
        match v {
            Node::Object(m) if !m.is_empty() => map(out, m, ind + 2),
            Node::Array(x) if !x.is_empty() => seq(out, x, ind + 2),
            other => {
                scalar(out, other);
                out.push('\n');
            }
        }
    }
}

fn scalar(out: &mut String, v: &Node) {
    match v {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Node::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        Node::Float(f) => out.push_str(&serde_json::to_string(f).unwrap_or_else(|_| "null".into())),
        Node::Str(s) => string(out, s),
        Node::Object(_) => out.push_str("{}"),
        Node::Array(_) => out.push_str("[]"),
    }
}

fn string(out: &mut String, s: &str) {
    if plain_ok(s) {
        out.push_str(s);
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
    }
}

/// Bare only: starts with a letter, `_` or `/`; then letters, digits, `_ . / -`; not a word
/// YAML 1.1 reads as a bool or null.
fn plain_ok(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_' || first == '/') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
    {
        return false;
    }
    const RESERVED: [&str; 12] = [
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~", ".inf", ".nan",
    ];
    !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_like_kubectl_and_quotes_safely() {
        let n: Node = serde_json::from_str(
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","creationTimestamp":"2020-08-07T14:21:12Z","labels":{"on":"yes"}},"spec":{"containers":[{"name":"c","args":["-c","a: b"]}],"x":[],"n":null,"i":3}}"#,
        )
        .unwrap();
        assert_eq!(
            to_yaml(&n),
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  creationTimestamp: \"2020-08-07T14:21:12Z\"\n  labels:\n    \"on\": \"yes\"\nspec:\n  containers:\n  - name: c\n    args:\n    - \"-c\"\n    - \"a: b\"\n  x: []\n  \"n\": null\n  i: 3\n"
        );
    }
}
