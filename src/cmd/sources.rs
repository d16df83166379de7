//! Key sources shared by `keys`, `audit`, `get`, `report` and `validate`
//! (`#[command(flatten)] keys: KeySourceArgs`).

use super::Error;
use crate::keyring::{Keyring, KeyringBuilder};

#[derive(clap::Args, Clone, Debug, Default)]
pub struct KeySourceArgs {
    /// A node's EncryptionConfiguration (YAML or JSON; also the legacy `kind: EncryptionConfig`).
    /// NODE defaults to the file name without extension. Repeatable, one per node.
    #[arg(
        long = "encryption-config",
        value_name = "[NODE=]PATH",
        alias = "config"
    )]
    pub encryption_config: Vec<String>,
    /// An OpenShift static_kuberesources_*.tar.gz from cluster-backup.sh; every
    /// kube-apiserver-pod-N encryption-config in it is read (the highest N is the node's).
    /// NODE defaults to the file name. Repeatable.
    #[arg(
        long = "static-resources",
        value_name = "[NODE=]PATH",
        alias = "tarball"
    )]
    pub static_resources: Vec<String>,
    /// A candidate key outside any config: [PROVIDER:]NAME=BASE64, PROVIDER one of aescbc
    /// (default), aesgcm, secretbox; a NAME containing ':' needs the PROVIDER. Repeatable.
    /// (The value is visible to other local users in the process list; prefer a config file.)
    #[arg(long = "key", value_name = "[PROVIDER:]NAME=BASE64")]
    pub candidate_key: Vec<String>,
}

impl KeySourceArgs {
    /// True when no key source was given.
    pub fn is_empty(&self) -> bool {
        self.encryption_config.is_empty()
            && self.static_resources.is_empty()
            && self.candidate_key.is_empty()
    }

    /// Adds every key-source file to the inputs an output must never overwrite.
    pub fn guard(&self, g: &mut super::outfile::Guard) {
        for s in self.encryption_config.iter().chain(&self.static_resources) {
            g.input_spec(s);
        }
    }

    /// Refuses special files and files of the wrong kind before the keyring opens them.
    fn precheck(&self) -> Result<(), Error> {
        for (flag, specs) in [
            ("--encryption-config", &self.encryption_config),
            ("--static-resources", &self.static_resources),
        ] {
            for s in specs {
                if let Ok(spec) = crate::keyring::node_spec(s, flag) {
                    super::input::key_source(&spec.path, flag)?;
                }
            }
        }
        Ok(())
    }

    /// Reads every source. The error is one line naming the file (or `--key #n`) and the field.
    pub fn load(&self) -> Result<Keyring, Error> {
        self.precheck()?;
        let mut b = KeyringBuilder::new();
        let err = |e: crate::keyring::Error| Error::new(e.to_string());
        for s in &self.encryption_config {
            b.encryption_config(s).map_err(err)?;
        }
        for s in &self.static_resources {
            b.static_resources(s).map_err(err)?;
        }
        for s in &self.candidate_key {
            b.key_arg(s).map_err(err)?;
        }
        let keyring = b.build();
        // Damage that did not stop a source from being read (a tarball's bad CRC, cut-off end,
        // trailing bytes) is said on every command that reads it.
        for w in &keyring.warnings {
            eprintln!("etcd-autopsy: warning: {w}");
        }
        Ok(keyring)
    }
}
