//! Runs of leaves handed from a tree walk to the other cores, with few of them waiting at once.
//!
//! Why: a walk finds leaves faster than a core can hash them, and a run spawned as its own job
//! waits in the walking thread's queue until the walk ends: on the 1.23 GB bench snapshot
//! `compare` of three copies held every run of every copy at once (147 runs of 1024 leaves
//! per copy, 72 KiB each, ~32 MB), each one fresh memory: 8,100 of its 8,900 page faults, the
//! first touch of each page a fault with a nested page-table walk under a hypervisor. Here at
//! most [`WAITING`] runs wait: past that the walking thread takes the oldest itself, and a
//! finished run's buffer is used again for the next one, so the walk allocates a few buffers
//! whatever the file's size.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Runs waiting for a core before the walking thread works through one itself: enough that
/// the other core never runs dry while the walk goes on.
const WAITING: usize = 4;

/// Hands runs of `T` (up to `capacity` each) to `work`, on whichever core is free.
pub(crate) struct Handoff<T> {
    capacity: usize,
    /// `(chunk, run)` in the order handed over.
    queue: Mutex<VecDeque<(usize, Vec<T>)>>,
    /// Emptied buffers of finished runs.
    pool: Mutex<Vec<Vec<T>>>,
}

impl<T: Send> Handoff<T> {
    pub(crate) fn new(capacity: usize) -> Handoff<T> {
        Handoff {
            capacity,
            queue: Mutex::new(VecDeque::new()),
            pool: Mutex::new(Vec::new()),
        }
    }

    /// An empty buffer for the next run.
    pub(crate) fn buffer(&self) -> Vec<T> {
        lock(&self.pool)
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.capacity))
    }

    /// Queues run number `chunk` and spawns a job in `scope` that takes one waiting run (not
    /// necessarily this one) through `work`; with more than [`WAITING`] runs queued, this thread
    /// takes the oldest through `work` first. Every run handed over has gone through `work`
    /// once when `scope` ends: there is one job per run, each takes at most one, and a job finds
    /// the queue empty only when this thread took a run in its place.
    pub(crate) fn hand<'s, W>(
        &'s self,
        scope: &rayon::Scope<'s>,
        chunk: usize,
        run: Vec<T>,
        work: &'s W,
    ) where
        W: Fn(usize, &[T]) + Sync,
        T: 's,
    {
        let waiting = {
            let mut q = lock(&self.queue);
            q.push_back((chunk, run));
            q.len()
        };
        scope.spawn(move |_| self.take_one(work));
        if waiting > WAITING {
            self.take_one(work);
        }
    }

    fn take_one<W: Fn(usize, &[T])>(&self, work: &W) {
        let next = lock(&self.queue).pop_front();
        if let Some((chunk, mut run)) = next {
            work(chunk, &run);
            run.clear();
            lock(&self.pool).push(run);
        }
    }
}

fn lock<X>(m: &Mutex<X>) -> std::sync::MutexGuard<'_, X> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Every run goes through `work` exactly once, with its own chunk number, however many are
    /// handed over and however the cores interleave.
    #[test]
    fn every_run_once() {
        for runs in [0usize, 1, 3, 4, 5, 17, 300] {
            let h: Handoff<usize> = Handoff::new(8);
            let seen: Vec<AtomicUsize> = (0..runs).map(|_| AtomicUsize::new(0)).collect();
            let work = |chunk: usize, run: &[usize]| {
                assert!(run.iter().all(|&x| x == chunk));
                seen[chunk].fetch_add(1, Ordering::Relaxed);
            };
            rayon::scope(|s| {
                for c in 0..runs {
                    let mut b = h.buffer();
                    assert!(b.is_empty());
                    b.extend(std::iter::repeat_n(c, 1 + c % 8));
                    h.hand(s, c, b, &work);
                }
            });
            assert!(
                seen.iter().all(|n| n.load(Ordering::Relaxed) == 1),
                "{runs}"
            );
            assert!(lock(&h.queue).is_empty());
            // Buffers come back: far fewer than runs were ever allocated.
            assert!(lock(&h.pool).len() <= runs.min(WAITING + 2 + rayon::current_num_threads()));
        }
    }
}
