//! Progress on stderr for the long stages (snapshot scan, decryption, log scan): an indicatif
//! spinner per stage when stderr is a terminal; silent otherwise and with `--quiet`.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub struct Progress {
    enabled: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// Runs `f` under a spinner showing `label`.
    pub fn stage<T>(&self, label: &str, f: impl FnOnce() -> T) -> T {
        if !self.enabled {
            return f();
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        let out = f();
        bar.finish_and_clear();
        out
    }
}
