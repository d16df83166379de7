//! Progress on stderr for the long stages (snapshot scan, decryption, log scan): an indicatif
//! spinner per stage when stderr is a terminal; silent otherwise and with `--quiet`. The library
//! sees it only as a [`crate::report::build::Progress`] callback.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

pub struct Progress {
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
        }
    }

    /// Runs `f` under a spinner showing `label`.
    pub fn stage<T>(&self, label: &str, f: impl FnOnce() -> T) -> T {
        use crate::report::build::Progress as _;
        self.start(label);
        let out = f();
        self.finish(label);
        out
    }
}

impl crate::report::build::Progress for Progress {
    fn start(&self, label: &str) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }

    fn finish(&self, _label: &str) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        }
    }
}
