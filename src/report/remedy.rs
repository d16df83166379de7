//! A remedy's typed steps ([`RemedyStep`]) spelled as what a person reads and the commands they
//! run. The only place those commands are written: every renderer prints these strings.
//!
//! Commands are for a POSIX shell: an argument holding anything but a safe character is put in
//! single quotes. Placeholders the user fills in are `<DIR>` (a new, empty directory away from
//! the evidence) and, for a `--key` source, `<BASE64 …>`; both are unbalanced redirections to a
//! shell, so a command run without filling them in fails before it starts.

use crate::correlate::{ExportStep, KeySourceRef, RecreateStep, RemedyStep};
use serde::Serialize;
use std::collections::BTreeMap;

/// The output directory placeholder of the export command.
pub const DIR: &str = "<DIR>";

/// One step as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// `export` or `recreate`.
    pub action: &'static str,
    /// What the step does and why, in one paragraph.
    pub text: String,
    /// The commands, in order.
    pub commands: Vec<String>,
}

impl Step {
    pub fn from_step(s: &RemedyStep) -> Step {
        match s {
            RemedyStep::Export(e) => export(e),
            RemedyStep::Recreate(r) => recreate(r),
        }
    }
}

fn export(e: &ExportStep) -> Step {
    let mut cmd = vec![
        "etcd-autopsy".to_string(),
        "export".into(),
        quote(&e.snapshot),
    ];
    let who = match &e.source {
        KeySourceRef::EncryptionConfig { node, path } => {
            cmd.push("--encryption-config".into());
            cmd.push(quote(&format!("{node}={path}")));
            format!("{node}'s key")
        }
        KeySourceRef::StaticResources { node, path } => {
            cmd.push("--static-resources".into());
            cmd.push(quote(&format!("{node}={path}")));
            format!("{node}'s key")
        }
        KeySourceRef::CommandLine { provider, name } => {
            cmd.push("--key".into());
            // The key bytes are never printed: the user gives the key they gave before.
            cmd.push(format!(
                "{}=<BASE64 of the key {}>",
                quote(&format!("{provider}:{name}")),
                e.fingerprint
            ));
            "the key".to_string()
        }
    };
    cmd.push("--decrypted-with".into());
    cmd.push(e.fingerprint.clone());
    if e.secrets || e.encrypted {
        cmd.push("--reveal".into());
    }
    cmd.push("--to".into());
    cmd.push(DIR.into());
    let reveal = match (e.secrets, e.encrypted) {
        (true, _) => " --reveal writes the Secrets' values: the files are mode 0600; keep DIR as you keep the keys.",
        (false, true) => " --reveal writes the values of these encrypted objects: the files are mode 0600; keep DIR as you keep the keys.",
        (false, false) => "",
    };
    Step {
        action: "export",
        text: format!(
            "First, while this snapshot holds them, save the {} record(s) only {who} ({}) decrypts as apply-ready manifests \
             into DIR, a new directory away from the evidence.{reveal}",
            e.keys.len(),
            e.fingerprint
        ),
        commands: vec![cmd.join(" ")],
    }
}

fn recreate(r: &RecreateStep) -> Step {
    // One `kubectl delete` per resource and namespace, names in key order.
    let mut groups: BTreeMap<(&str, Option<&str>), Vec<&str>> = BTreeMap::new();
    for o in &r.objects {
        groups
            .entry((o.resource.as_str(), o.namespace.as_deref()))
            .or_default()
            .push(o.name.as_str());
    }
    let mut commands = Vec::new();
    for ((resource, ns), names) in groups {
        let mut c = vec!["kubectl".to_string(), "delete".into(), quote(resource)];
        if let Some(ns) = ns {
            c.push("-n".into());
            c.push(quote(ns));
        }
        c.extend(names.into_iter().map(quote));
        c.push("--ignore-store-read-error-with-cluster-breaking-potential".into());
        commands.push(c.join(" "));
    }
    commands.push(format!("kubectl apply -R -f {DIR}"));
    Step {
        action: "recreate",
        text: format!(
            "After the key is fixed, re-create the {} object(s): no node reads the stored ones any more, and the apiserver \
             must read an object to update or delete it, so `kubectl apply` and `replace` fail on them. Remove them with \
             the delete for undecryptable objects (Kubernetes 1.32+ with the AllowUnsafeMalformedObjectDeletion feature \
             gate; on older clusters, `etcdctl del` of each one's etcd key, which heads its exported file), then apply the export.",
            r.objects.len()
        ),
        commands,
    }
}

/// A shell word: as is when every character is safe, else in single quotes.
pub fn quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::ObjectRef;

    #[test]
    fn quoting() {
        assert_eq!(
            quote("testdata/incident/snapshot.db"),
            "testdata/incident/snapshot.db"
        );
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$(rm -rf x)"), "'$(rm -rf x)'");
    }

    #[test]
    fn export_then_recreate() {
        let e = RemedyStep::Export(ExportStep {
            snapshot: "/s/snap shot.db".into(),
            source: KeySourceRef::EncryptionConfig {
                node: "master-3".into(),
                path: "/c/m3.yaml".into(),
            },
            fingerprint: "sha256:2f91094b3553b6d8".into(),
            keys: vec!["/registry/secrets/a/x".into()],
            secrets: true,
            encrypted: true,
        });
        let s = Step::from_step(&e);
        assert_eq!(
            s.commands,
            [
                "etcd-autopsy export '/s/snap shot.db' --encryption-config master-3=/c/m3.yaml \
              --decrypted-with sha256:2f91094b3553b6d8 --reveal --to <DIR>"
            ]
        );
        let obj = |ns: &str, name: &str| ObjectRef {
            key: format!("/registry/secrets/{ns}/{name}"),
            resource: "secrets".into(),
            namespace: Some(ns.into()),
            name: name.into(),
        };
        let r = RemedyStep::Recreate(RecreateStep {
            objects: vec![obj("a", "x"), obj("a", "y"), obj("b", "z")],
        });
        let s = Step::from_step(&r);
        assert_eq!(
            s.commands,
            [
                "kubectl delete secrets -n a x y --ignore-store-read-error-with-cluster-breaking-potential",
                "kubectl delete secrets -n b z --ignore-store-read-error-with-cluster-breaking-potential",
                "kubectl apply -R -f <DIR>",
            ]
        );
    }
}
