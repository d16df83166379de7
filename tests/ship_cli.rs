//! End-to-end: what a packager and a user installing the tool rely on — `--version` names the
//! build, completions and man pages come from the real CLI definition.

mod common;
use common::*;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn version_names_commit_and_build_date() {
    let o = run(&["--version"]);
    assert!(o.status.success());
    let v = stdout(&o);
    let want = format!("etcd-autopsy {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(v.starts_with(&want), "{v}");
    let date = v
        .split(", built ")
        .nth(1)
        .and_then(|r| r.strip_suffix(")\n"))
        .expect("build date");
    assert!(
        date == "unknown"
            || (date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-'),
        "{date}"
    );
}

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = run(&["completions", shell]);
        assert!(
            o.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let s = stdout(&o);
        for sub in [
            "status",
            "check",
            "report",
            "validate",
            "completions",
            "man",
        ] {
            assert!(s.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let o = run(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "unknown shell is a usage error");
}

#[test]
fn man_pages_for_the_tool_and_each_subcommand() {
    let o = run(&["man"]);
    assert!(o.status.success());
    let page = stdout(&o);
    assert!(page.contains(".TH etcd-autopsy 1"), "{page}");
    assert!(
        page.contains("commit "),
        "man page carries the long version"
    );
    let o = run(&["man", "report"]);
    assert!(o.status.success());
    let page = stdout(&o);
    assert!(page.contains(".TH etcd-autopsy-report 1"), "{page}");
    assert!(
        page.contains("snapshot"),
        "report's page documents --snapshot"
    );

    let o = run(&["man", "no\x1b[2Jsuch"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("etcd-autopsy: man: no subcommand \"no\\u{1b}[2Jsuch\"; one of: status,"),
        "{err}"
    );
    assert!(
        !err.contains('\x1b'),
        "control characters from the argument are escaped"
    );
}
