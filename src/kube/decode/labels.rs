//! Label selectors, the equality- and set-based forms kubectl accepts
//! (apimachinery/pkg/labels/selector.go): `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`,
//! `a notin (x,y)`, joined by commas.

use super::node::Node;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Req {
    Eq(String, String),
    Ne(String, String),
    Exists(String),
    Absent(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A parsed selector: every requirement must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector(Vec<Req>);

impl Selector {
    pub fn parse(s: &str) -> Result<Selector, String> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let p = part.trim();
            if p.is_empty() {
                return Err("empty requirement".into());
            }
            let word = |x: &str| -> Result<String, String> {
                let x = x.trim();
                if x.is_empty() || x.contains([' ', '(', ')', '=', '!']) {
                    Err(format!("invalid label key or value {x:?}"))
                } else {
                    Ok(x.to_string())
                }
            };
            let set = |rest: &str| -> Result<Vec<String>, String> {
                let inner = rest
                    .trim()
                    .strip_prefix('(')
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or("a set must be written (a,b)")?;
                inner.split(',').map(&word).collect()
            };
            let r = if let Some((k, v)) = p.split_once("!=") {
                Req::Ne(word(k)?, value(v)?)
            } else if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
                Req::Eq(word(k)?, value(v)?)
            } else if let Some(k) = p.strip_prefix('!') {
                Req::Absent(word(k)?)
            } else if let Some((k, rest)) = p.split_once(" notin ") {
                Req::NotIn(word(k)?, set(rest)?)
            } else if let Some((k, rest)) = p.split_once(" in ") {
                Req::In(word(k)?, set(rest)?)
            } else {
                Req::Exists(word(p)?)
            };
            reqs.push(r);
        }
        Ok(Selector(reqs))
    }

    /// Whether an object's `metadata.labels` satisfy the selector.
    pub fn matches(&self, object: &Node) -> bool {
        let labels = object.at(&["metadata", "labels"]);
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::as_str);
        self.0.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v.as_str()),
            Req::Ne(k, v) => get(k) != Some(v.as_str()),
            Req::Exists(k) => get(k).is_some(),
            Req::Absent(k) => get(k).is_none(),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Req::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
        })
    }
}

/// A label value may be empty (`a=`).
fn value(v: &str) -> Result<String, String> {
    let v = v.trim();
    if v.contains([' ', '(', ')', '=', '!', ',']) {
        return Err(format!("invalid label value {v:?}"));
    }
    Ok(v.to_string())
}

/// Splits at commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_like_kubectl() {
        let o: Node =
            serde_json::from_str(r#"{"metadata":{"labels":{"app":"web","tier":"fe"}}}"#).unwrap();
        for (s, want) in [
            ("app=web", true),
            ("app==web,tier!=db", true),
            ("app", true),
            ("!app", false),
            ("!legacy", true),
            ("tier in (fe,be)", true),
            ("tier notin (fe)", false),
            ("app=db", false),
        ] {
            assert_eq!(Selector::parse(s).unwrap().matches(&o), want, "{s}");
        }
        assert!(Selector::parse("a=(b").is_err());
        assert!(Selector::parse("").is_err());
    }
}
