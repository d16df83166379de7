//! deploy/**: every manifest is a Kubernetes object of its kind, with the security fields the
//! `restricted` Pod Security profile (and OpenShift's SCCs) demand, and every `etcd-autopsy`
//! argument in it is one our CLI accepts.
//!
//! Objects are parsed with k8s-openapi's types of one pinned API version (1.33, the oldest
//! k8s-openapi 0.29 knows; OpenShift 4.20), not with structs of our own: those would only check
//! the fields we thought of, spelled as we spelled them. A typed object serialised back must give
//! the document it came from, so a misspelt or misplaced field (which the types silently drop)
//! fails here instead of being ignored by the API server with a warning. OpenShift's
//! SecurityContextConstraints has no k8s-openapi type: it is checked through a struct of the
//! openshift/api security/v1 fields we use, refusing any other.

use clap::{Args as _, Command, FromArgMatches as _};
use etcd_autopsy::cmd::output_args::formats;
use etcd_autopsy::cmd::validate;
use k8s_openapi::api::batch::v1::{CronJob, Job, JobSpec};
use k8s_openapi::api::core::v1::{Container, Namespace, PodSpec, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, RoleBinding};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The image every pod runs: what scripts/build-image.sh builds, at this crate's version.
const IMAGE_NAME: &str = "etcd-autopsy";
/// Sized from the validate measurement in docs/backup-validation.md ("Sizing").
const REQUEST_MEMORY: &str = "512Mi";
const LIMIT_MEMORY: &str = "3Gi";
const REQUEST_CPU: &str = "1";
/// Volume types the `restricted` profile allows (Pod Security Standards, "Volume Types").
const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Scc {
    api_version: String,
    kind: String,
    metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    allow_host_dir_volume_plugin: bool,
    #[serde(rename = "allowHostIPC")]
    allow_host_ipc: bool,
    allow_host_network: bool,
    #[serde(rename = "allowHostPID")]
    allow_host_pid: bool,
    allow_host_ports: bool,
    allow_privileged_container: bool,
    allow_privilege_escalation: bool,
    default_allow_privilege_escalation: bool,
    allowed_capabilities: Vec<String>,
    default_add_capabilities: Vec<String>,
    required_drop_capabilities: Vec<String>,
    read_only_root_filesystem: bool,
    run_as_user: Strategy,
    se_linux_context: Strategy,
    fs_group: Strategy,
    supplemental_groups: Strategy,
    seccomp_profiles: Vec<String>,
    volumes: Vec<String>,
    users: Vec<String>,
    groups: Vec<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Strategy {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<i64>,
}

enum Object {
    Namespace(Box<Namespace>),
    ServiceAccount(Box<ServiceAccount>),
    CronJob(Box<CronJob>),
    Job(Box<Job>),
    ClusterRole(Box<ClusterRole>),
    RoleBinding(Box<RoleBinding>),
    Scc(Box<Scc>),
}

struct Manifest {
    /// `deploy/…` and the document's index in the file.
    at: String,
    openshift: bool,
    object: Object,
}

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

/// Parses `doc` as `T`, and checks that `T` serialised back is `doc` again.
fn typed<T: DeserializeOwned + Serialize>(at: &str, doc: &Value) -> T {
    let t: T = serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{at}: {e}"));
    let back = serde_json::to_value(&t).unwrap();
    let mut lost = Vec::new();
    lost_fields(doc, &back, String::new(), &mut lost);
    assert!(
        lost.is_empty(),
        "{at}: not fields of this kind (misspelt or misplaced?): {lost:?}"
    );
    t
}

/// Paths present in `orig` that `back` lacks or holds differently.
fn lost_fields(orig: &Value, back: &Value, path: String, out: &mut Vec<String>) {
    match (orig, back) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => lost_fields(v, w, format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                lost_fields(v, w, format!("{path}[{i}]"), out);
            }
        }
        _ if orig == back => {}
        _ => out.push(format!("{path} = {orig} (read back as {back})")),
    }
}

fn manifests() -> Vec<Manifest> {
    let root = deploy_dir();
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    assert!(!files.is_empty(), "no manifests under {}", root.display());
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, de) in serde_yaml_ng::Deserializer::from_str(&text).enumerate() {
            let at = format!("{}#{i}", rel.display());
            let doc = Value::deserialize(de).unwrap_or_else(|e| panic!("{at}: {e}"));
            let kind = doc["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("{at}: no kind"));
            let object = match kind {
                "Namespace" => Object::Namespace(typed(&at, &doc)),
                "ServiceAccount" => Object::ServiceAccount(typed(&at, &doc)),
                "CronJob" => Object::CronJob(typed(&at, &doc)),
                "Job" => Object::Job(typed(&at, &doc)),
                "ClusterRole" => Object::ClusterRole(typed(&at, &doc)),
                "RoleBinding" => Object::RoleBinding(typed(&at, &doc)),
                "SecurityContextConstraints" => Object::Scc(typed(&at, &doc)),
                other => panic!("{at}: a {other}: add its type to tests/deploy.rs"),
            };
            out.push(Manifest {
                openshift: rel.starts_with("deploy/openshift"),
                at,
                object,
            });
        }
    }
    out
}

/// A workload's pod: where it is, its namespace, its Job spec and its pod spec.
struct Pod<'a> {
    at: &'a str,
    openshift: bool,
    namespace: String,
    job: &'a JobSpec,
    annotations: BTreeMap<String, String>,
    spec: &'a PodSpec,
}

fn pods(all: &[Manifest]) -> Vec<Pod<'_>> {
    let mut out = Vec::new();
    for m in all {
        let (meta, job) = match &m.object {
            Object::CronJob(c) => {
                let spec = c.spec.as_ref().expect("CronJob spec");
                (
                    &c.metadata,
                    spec.job_template.spec.as_ref().expect("jobTemplate spec"),
                )
            }
            Object::Job(j) => (&j.metadata, j.spec.as_ref().expect("Job spec")),
            _ => continue,
        };
        out.push(Pod {
            at: &m.at,
            openshift: m.openshift,
            namespace: meta
                .namespace
                .clone()
                .unwrap_or_else(|| panic!("{}: no namespace", m.at)),
            job,
            annotations: job
                .template
                .metadata
                .as_ref()
                .and_then(|m| m.annotations.clone())
                .unwrap_or_default(),
            spec: job.template.spec.as_ref().expect("pod spec"),
        });
    }
    out
}

fn volume_type(v: &k8s_openapi::api::core::v1::Volume) -> String {
    let json = serde_json::to_value(v).unwrap();
    let mut keys: Vec<&String> = json
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "name")
        .collect();
    assert_eq!(keys.len(), 1, "volume {} has one source", v.name);
    keys.remove(0).clone()
}

fn q(s: &str) -> Quantity {
    Quantity(s.to_string())
}

#[test]
fn every_manifest_is_an_object_of_its_kind() {
    let all = manifests();
    let kinds: Vec<&str> = all
        .iter()
        .map(|m| match m.object {
            Object::Namespace(_) => "Namespace",
            Object::ServiceAccount(_) => "ServiceAccount",
            Object::CronJob(_) => "CronJob",
            Object::Job(_) => "Job",
            Object::ClusterRole(_) => "ClusterRole",
            Object::RoleBinding(_) => "RoleBinding",
            Object::Scc(_) => "SecurityContextConstraints",
        })
        .collect();
    for want in [
        "Namespace",
        "ServiceAccount",
        "CronJob",
        "Job",
        "SecurityContextConstraints",
    ] {
        assert!(kinds.contains(&want), "deploy/ has no {want}: {kinds:?}");
    }
    // The fleet variant is an Indexed Job; the OpenShift variant reads a master's host path.
    let pods = pods(&all);
    assert!(pods
        .iter()
        .any(|p| p.job.completion_mode.as_deref() == Some("Indexed")));
    assert!(pods.iter().any(|p| p.openshift));
}

#[test]
fn pods_meet_the_restricted_profile() {
    let all = manifests();
    let restricted_namespaces: Vec<String> = all
        .iter()
        .filter_map(|m| match &m.object {
            Object::Namespace(n) => {
                let labels = n.metadata.labels.clone().unwrap_or_default();
                (labels
                    .get("pod-security.kubernetes.io/enforce")
                    .map(String::as_str)
                    == Some("restricted"))
                .then(|| n.metadata.name.clone().unwrap())
            }
            _ => None,
        })
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    let pods = pods(&all);
    for p in &pods {
        let at = p.at;
        let s = p.spec;
        // No API access at all: no token mounted, the job's own service account.
        assert_eq!(s.automount_service_account_token, Some(false), "{at}");
        assert_eq!(
            s.service_account_name.as_deref(),
            Some("etcd-autopsy"),
            "{at}"
        );
        assert_eq!(s.restart_policy.as_deref(), Some("Never"), "{at}");
        for host in [s.host_network, s.host_pid, s.host_ipc] {
            assert_ne!(host, Some(true), "{at}: host namespaces");
        }
        let psc = s
            .security_context
            .as_ref()
            .unwrap_or_else(|| panic!("{at}: pod securityContext"));
        assert_eq!(
            psc.seccomp_profile.as_ref().map(|x| x.type_.as_str()),
            Some("RuntimeDefault"),
            "{at}"
        );
        assert_eq!(s.containers.len(), 1, "{at}");
        assert!(s.init_containers.is_none(), "{at}");
        let c: &Container = &s.containers[0];
        let csc = c
            .security_context
            .as_ref()
            .unwrap_or_else(|| panic!("{at}: container securityContext"));
        assert_eq!(csc.allow_privilege_escalation, Some(false), "{at}");
        assert_eq!(csc.read_only_root_filesystem, Some(true), "{at}");
        assert_ne!(csc.privileged, Some(true), "{at}");
        let caps = csc
            .capabilities
            .as_ref()
            .unwrap_or_else(|| panic!("{at}: capabilities"));
        assert_eq!(caps.drop.as_deref(), Some(&["ALL".to_string()][..]), "{at}");
        assert!(
            caps.add.as_ref().is_none_or(|a| a.is_empty()),
            "{at}: capabilities added"
        );
        assert_eq!(
            csc.seccomp_profile.as_ref().map(|x| x.type_.as_str()),
            Some("RuntimeDefault"),
            "{at}"
        );
        assert!(c.ports.is_none(), "{at}: ports");
        // The image's entrypoint is the binary: no shell, no command override.
        assert!(
            c.command.is_none(),
            "{at}: command overrides the entrypoint"
        );
        let image = c.image.as_deref().unwrap_or_else(|| panic!("{at}: image"));
        assert!(
            image.ends_with(&format!("/{IMAGE_NAME}:{version}")),
            "{at}: image {image} is not {IMAGE_NAME}:{version} (scripts/build-image.sh)"
        );
        let res = c
            .resources
            .as_ref()
            .unwrap_or_else(|| panic!("{at}: resources"));
        let requests = res.requests.clone().unwrap_or_default();
        let limits = res.limits.clone().unwrap_or_default();
        assert_eq!(requests.get("memory"), Some(&q(REQUEST_MEMORY)), "{at}");
        assert_eq!(requests.get("cpu"), Some(&q(REQUEST_CPU)), "{at}");
        assert_eq!(limits.get("memory"), Some(&q(LIMIT_MEMORY)), "{at}");

        let mounts = c.volume_mounts.clone().unwrap_or_default();
        let volumes = s.volumes.clone().unwrap_or_default();
        for v in &volumes {
            let t = volume_type(v);
            let mounted: Vec<_> = mounts.iter().filter(|m| m.name == v.name).collect();
            assert!(!mounted.is_empty(), "{at}: volume {} not mounted", v.name);
            if t == "hostPath" {
                // The one exception: OpenShift's node-pinned job, read-only.
                assert!(p.openshift, "{at}: hostPath outside deploy/openshift");
                for m in mounted {
                    assert_eq!(
                        m.read_only,
                        Some(true),
                        "{at}: hostPath {} writable",
                        v.name
                    );
                }
            } else {
                assert!(
                    RESTRICTED_VOLUMES.contains(&t.as_str()),
                    "{at}: volume type {t}"
                );
            }
        }
        if p.openshift {
            // uid 0 is the exception deploy/openshift/scc.yaml explains; checked there.
            continue;
        }
        assert!(
            restricted_namespaces.contains(&p.namespace),
            "{at}: namespace {} does not enforce restricted",
            p.namespace
        );
        assert_eq!(psc.run_as_non_root, Some(true), "{at}");
        assert!(
            psc.run_as_user.is_some_and(|u| u != 0),
            "{at}: pod runAsUser"
        );
        assert_eq!(csc.run_as_non_root, Some(true), "{at}");
        assert!(
            csc.run_as_user.is_none_or(|u| u != 0),
            "{at}: container runAsUser"
        );
    }
}

#[test]
fn openshift_variant_reads_the_host_path_read_only_under_its_own_scc() {
    let all = manifests();
    let sccs: Vec<&Scc> = all
        .iter()
        .filter_map(|m| match &m.object {
            Object::Scc(s) => Some(&**s),
            _ => None,
        })
        .collect();
    let pods: Vec<Pod> = pods(&all).into_iter().filter(|p| p.openshift).collect();
    assert!(!pods.is_empty());
    for p in &pods {
        let at = p.at;
        let name = p
            .annotations
            .get("openshift.io/required-scc")
            .unwrap_or_else(|| panic!("{at}: names no SCC"));
        let scc = sccs
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("{at}: SCC {name} not in deploy/openshift"));
        assert_eq!(scc.api_version, "security.openshift.io/v1");
        assert_eq!(scc.kind, "SecurityContextConstraints");
        assert!(scc.allow_host_dir_volume_plugin);
        for host in [
            scc.allow_host_ipc,
            scc.allow_host_network,
            scc.allow_host_pid,
            scc.allow_host_ports,
            scc.allow_privileged_container,
            scc.allow_privilege_escalation,
            scc.default_allow_privilege_escalation,
        ] {
            assert!(!host, "{name}: allows a host feature or escalation");
        }
        assert!(scc.allowed_capabilities.is_empty() && scc.default_add_capabilities.is_empty());
        assert_eq!(scc.required_drop_capabilities, ["ALL"]);
        assert!(scc.read_only_root_filesystem);
        assert_eq!(scc.seccomp_profiles, ["runtime/default"]);
        assert!(
            scc.users.is_empty() && scc.groups.is_empty(),
            "{name}: granted through RBAC only"
        );
        // The SCC pins exactly the uid the pod runs as.
        assert_eq!(scc.run_as_user.kind, "MustRunAs");
        let psc = p.spec.security_context.as_ref().unwrap();
        let csc = p.spec.containers[0].security_context.as_ref().unwrap();
        assert_eq!(scc.run_as_user.uid, psc.run_as_user, "{at}");
        assert!(
            csc.run_as_user.is_none() || csc.run_as_user == psc.run_as_user,
            "{at}"
        );
        assert_eq!(scc.se_linux_context.kind, "MustRunAs");
        for v in p.spec.volumes.iter().flatten() {
            let t = volume_type(v);
            assert!(scc.volumes.contains(&t), "{at}: {name} does not allow {t}");
        }
        // Pinned to a master, tolerating its taints.
        let sel = p.spec.node_selector.clone().unwrap_or_default();
        assert!(sel.contains_key("node-role.kubernetes.io/master"), "{at}");
        assert!(
            sel.contains_key("kubernetes.io/hostname"),
            "{at}: node-pinned"
        );
        let tolerated: Vec<String> = p
            .spec
            .tolerations
            .iter()
            .flatten()
            .filter_map(|t| t.key.clone())
            .collect();
        assert!(
            tolerated
                .iter()
                .any(|k| k == "node-role.kubernetes.io/master"),
            "{at}"
        );
        // Who may use the SCC: the pod's service account, through a role granting only `use`.
        let sa = p.spec.service_account_name.as_deref().unwrap();
        let role = all
            .iter()
            .find_map(|m| match &m.object {
                Object::ClusterRole(r) => r
                    .rules
                    .iter()
                    .flatten()
                    .any(|rule| rule.resource_names.iter().flatten().any(|n| n == name))
                    .then_some(r),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no ClusterRole grants use of {name}"));
        let rules = role.rules.clone().unwrap_or_default();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].verbs, ["use"]);
        assert_eq!(
            rules[0].resources.as_deref(),
            Some(&["securitycontextconstraints".to_string()][..])
        );
        let role_name = role.metadata.name.clone().unwrap();
        let bound = all.iter().any(|m| match &m.object {
            Object::RoleBinding(b) => {
                b.role_ref.kind == "ClusterRole"
                    && b.role_ref.name == role_name
                    && b.metadata.namespace.as_deref() == Some(p.namespace.as_str())
                    && b.subjects.iter().flatten().any(|s| {
                        s.kind == "ServiceAccount"
                            && s.name == sa
                            && s.namespace.as_deref() == Some(p.namespace.as_str())
                    })
            }
            _ => false,
        });
        assert!(
            bound,
            "{at}: {sa} is not bound to {role_name} in {}",
            p.namespace
        );
    }
}

#[test]
fn service_accounts_have_no_api_access() {
    let all = manifests();
    let mut seen = 0;
    for m in &all {
        match &m.object {
            Object::ServiceAccount(sa) => {
                seen += 1;
                assert_eq!(sa.automount_service_account_token, Some(false), "{}", m.at);
            }
            // The only RBAC is OpenShift's right to use one SCC (checked above).
            Object::ClusterRole(_) | Object::RoleBinding(_) => {
                assert!(m.openshift, "{}: RBAC outside deploy/openshift", m.at)
            }
            _ => {}
        }
    }
    assert!(seen > 0);
    // Every pod's service account exists in its namespace.
    for p in pods(&all) {
        let sa = p.spec.service_account_name.clone().unwrap();
        assert!(
            all.iter()
                .any(|m| matches!(&m.object, Object::ServiceAccount(s)
                if s.metadata.name.as_deref() == Some(sa.as_str())
                    && s.metadata.namespace.as_deref() == Some(p.namespace.as_str()))),
            "{}: no ServiceAccount {sa} in {}",
            p.at,
            p.namespace
        );
    }
}

/// What Kubernetes does to `$(VAR)` in args: replaced by the container's env var of that name;
/// a reference to an undeclared variable stays as written (then our CLI would get it verbatim).
fn expand(at: &str, arg: &str, declared: &[String]) -> String {
    let mut out = String::new();
    let mut rest = arg;
    while let Some(i) = rest.find("$(") {
        out.push_str(&rest[..i]);
        let end = rest[i..]
            .find(')')
            .unwrap_or_else(|| panic!("{at}: unclosed $( in {arg}"));
        let var = &rest[i + 2..i + end];
        assert!(
            declared.iter().any(|d| d == var),
            "{at}: {arg} refers to {var}, which the container does not declare"
        );
        // A value as the Job controller would set it.
        out.push('7');
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out
}

fn validate_cli() -> Command {
    validate::Args::augment_args(Command::new("validate")).no_binary_name(true)
}

#[test]
fn every_etcd_autopsy_argument_is_accepted_by_the_cli() {
    let all = manifests();
    let pods = pods(&all);
    for p in &pods {
        let at = p.at;
        let c = &p.spec.containers[0];
        let declared: Vec<String> = c.env.iter().flatten().map(|e| e.name.clone()).collect();
        let args: Vec<String> = c
            .args
            .iter()
            .flatten()
            .map(|a| expand(at, a, &declared))
            .collect();
        assert_eq!(args.first().map(String::as_str), Some("validate"), "{at}");
        let rest: Vec<&String> = args[1..].iter().collect();
        let matches = validate_cli()
            .try_get_matches_from(&rest)
            .unwrap_or_else(|e| panic!("{at}: etcd-autopsy {args:?}: {e}"));
        let parsed = validate::Args::from_arg_matches(&matches)
            .unwrap_or_else(|e| panic!("{at}: etcd-autopsy {args:?}: {e}"));
        if let Some(fmt) = &parsed.out.format {
            assert!(
                formats("validate").iter().any(|f| f.name() == fmt),
                "{at}: validate has no -o {fmt}"
            );
        }
        // Every volume the arguments name is mounted read-only, except the verdicts directory.
        let mounts = c.volume_mounts.clone().unwrap_or_default();
        let input = args[1].as_str();
        let m = mounts
            .iter()
            .find(|m| m.mount_path == input)
            .unwrap_or_else(|| panic!("{at}: {input} is not a mount"));
        assert_eq!(
            m.read_only,
            Some(true),
            "{at}: the backups are mounted writable"
        );
        if let Some(dir) = args.iter().find_map(|a| a.strip_prefix("--output-dir=")) {
            assert!(
                !dir.starts_with(input) && !input.starts_with(dir),
                "{at}: output dir {dir} and input {input} overlap"
            );
        }
        // The Indexed Job's pod i validates the i-th backup.
        if p.job.completion_mode.as_deref() == Some("Indexed") {
            let raw: Vec<&String> = c.args.iter().flatten().collect();
            assert!(
                raw.iter().any(|a| *a == "--index=$(JOB_COMPLETION_INDEX)"),
                "{at}"
            );
            assert!(p.job.completions.is_some_and(|n| n > 0), "{at}");
        }
        // A verdict (exit 1) is never retried; only "could not run" (2) may be.
        let policy = p
            .job
            .pod_failure_policy
            .as_ref()
            .unwrap_or_else(|| panic!("{at}: podFailurePolicy"));
        let verdict_rule = policy.rules.iter().find(|r| {
            r.on_exit_codes
                .as_ref()
                .is_some_and(|e| e.operator == "In" && e.values == [1])
        });
        let action = verdict_rule.map(|r| r.action.as_str());
        assert!(
            matches!(action, Some("FailJob" | "FailIndex")),
            "{at}: exit 1 is retried"
        );
    }
}

#[test]
fn the_guide_is_written_around_these_manifests() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/backup-validation.md"),
    )
    .unwrap();
    let mut files = Vec::new();
    yaml_files(&deploy_dir(), &mut files);
    for f in files {
        let rel = f.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let rel = rel.to_str().unwrap();
        assert!(
            doc.contains(rel),
            "docs/backup-validation.md never names {rel}"
        );
    }
    // No shell in the jobs any more.
    for word in ["/bin/sh", "ls -1t", "| head", "mv \""] {
        assert!(
            !doc.contains(word),
            "docs/backup-validation.md still has {word:?}"
        );
    }
}
