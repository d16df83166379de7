//! Stage timings for whoever tunes the pipeline: with `ETCD_AUTOPSY_TRACE` set (to anything but
//! empty or `0`), each [`span`] prints one line to stderr when it ends — when it started and how
//! long it took since the process's first span (wall, ms), the CPU its thread spent in it (ms)
//! and the thread. Off by default; never part of any output, and it prints only stage names.

use std::sync::OnceLock;
use std::time::Instant;

fn origin() -> Option<Instant> {
    static ON: OnceLock<Option<Instant>> = OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var_os("ETCD_AUTOPSY_TRACE")
            .filter(|v| !v.is_empty() && v != "0")
            .map(|_| Instant::now())
    })
}

/// CPU time of the calling thread, in ms (0 if the clock is unavailable).
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes into it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

/// The process's resident anonymous memory now (RssAnon), in MB; 0 where /proc has none.
fn rss_anon_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("RssAnon:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb * 1024.0 / 1e6)
}

/// True when tracing is on.
pub fn enabled() -> bool {
    origin().is_some()
}

/// Runs `f`; when tracing is on, prints `trace NAME start=… wall=… cpu=… thread=…` after it.
pub fn span<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let Some(t0) = origin() else {
        return f();
    };
    let start = t0.elapsed().as_secs_f64() * 1e3;
    let cpu0 = thread_cpu_ms();
    let out = f();
    let wall = t0.elapsed().as_secs_f64() * 1e3 - start;
    let cpu = thread_cpu_ms() - cpu0;
    let th = std::thread::current();
    let who = th
        .name()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{:?}", th.id()));
    eprintln!(
        "trace {name:<34} start={start:8.1}ms wall={wall:8.1}ms cpu={cpu:8.1}ms anon={:6.1}MB thread={who}",
        rss_anon_mb()
    );
    out
}
