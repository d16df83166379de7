//! `completions` and `man`: shell completion scripts and roff man pages generated from the same
//! clap definition `main.rs` parses with, so they can never drift from the real flags. Both print
//! to stdout; installing them is the packager's (or the user's) choice of place.

use super::{CmdResult, Error, Outcome};
use std::io::Write;

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(clap::Args)]
pub struct ManArgs {
    /// A subcommand's own page (`etcd-autopsy-report(1)`); the main page without it.
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}

/// Writes the completion script for `args.shell` of the command tree `cli`.
pub fn completions(mut cli: clap::Command, args: &CompletionsArgs) -> CmdResult {
    let name = cli.get_name().to_string();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cli, name, &mut out);
    out.flush()?;
    Ok(Outcome::Clean)
}

/// Writes the man page of `cli`, or of one of its subcommands (named `etcd-autopsy-SUB`, as git
/// and cargo name theirs).
pub fn man(cli: clap::Command, args: &ManArgs) -> CmdResult {
    let cli = cli.version(super::version::LONG);
    let page = match &args.subcommand {
        None => cli,
        Some(sub) => {
            let parent = cli.get_name().to_string();
            let found = cli
                .get_subcommands()
                .find(|c| c.get_name() == sub.as_str())
                .cloned();
            let Some(c) = found else {
                let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
                return Err(Error::new(format!(
                    "man: no subcommand \"{}\"; one of: {}",
                    printable(sub),
                    names.join(", ")
                )));
            };
            let full = format!("{parent}-{}", c.get_name());
            c.name(full).version(super::version::LONG)
        }
    };
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&buf)?;
    out.flush()?;
    Ok(Outcome::Clean)
}

/// A user-typed name echoed back: control characters escaped, length capped.
fn printable(s: &str) -> String {
    s.chars().take(64).flat_map(char::escape_debug).collect()
}
