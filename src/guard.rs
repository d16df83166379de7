//! Process-wide defences that are not any layer's business.
//!
//! **A snapshot that shrinks while mapped.** We read snapshots through a read-only mapping. If
//! another process truncates the file meanwhile, touching a page past the new end raises SIGBUS,
//! which by default kills the process with no message (exit 135). Copying every snapshot into
//! memory would avoid it at the cost of the zero-copy design (and of memory on 8 GiB files), and
//! re-checking the size cannot close the race. So we install a SIGBUS handler that writes one
//! line naming the cause and exits with status 2 ("could not run"): output already written may be
//! partial, and the line says so. The handler only calls async-signal-safe functions (`write`,
//! `_exit`).

/// Installs the SIGBUS handler. Call once, early in `main`.
pub fn install_sigbus_handler() {
    #[cfg(unix)]
    // SAFETY: `on_sigbus` is async-signal-safe (only write(2) and _exit(2)); the sigaction struct
    // is fully initialised before use.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
    }
}

#[cfg(unix)]
extern "C" fn on_sigbus(_sig: libc::c_int, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    const MSG: &[u8] = b"etcd-autopsy: an input file shrank while it was being read (SIGBUS): \
another process truncated or replaced it; output so far is incomplete. Copy the file first and \
run again on the copy.\n";
    // SAFETY: write(2) and _exit(2) are async-signal-safe.
    unsafe {
        libc::write(2, MSG.as_ptr().cast(), MSG.len());
        libc::_exit(2);
    }
}
