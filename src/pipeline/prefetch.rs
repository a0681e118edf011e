//! Ordered, bounded prefetch: N worker threads build items ahead, the consumer gets them in
//! index order.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::JoinHandle;

use super::catch_panic;
use crate::iterators::{IteratorState, Resumable};
use crate::{Error, Result, Sequence};

/// The work an [`OrderedPool`] runs: item `i` from index `i`.
pub(crate) type Job<T> = Arc<dyn Fn(usize) -> Result<T> + Send + Sync>;

struct State<T> {
    /// The next index a worker will claim.
    next_claim: usize,
    /// The next index the consumer will take; workers stay below `taken + capacity`.
    taken: usize,
    /// Finished items not yet taken, by index.
    done: BTreeMap<usize, Result<T>>,
    /// Set on drop: workers stop claiming and exit.
    stop: bool,
    /// Worker threads still running their loop.
    live: usize,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Workers wait here for room in the window (or for `stop`).
    room: Condvar,
    /// The consumer waits here for its next item.
    ready: Condvar,
    capacity: usize,
    end: Option<usize>,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Jobs run outside the lock, so poisoning would need a bug here; recover anyway.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Decrements the live-worker count when a worker leaves its loop, even by unwinding.
struct LiveGuard<'a, T>(&'a Shared<T>);

impl<T> Drop for LiveGuard<'_, T> {
    fn drop(&mut self) {
        self.0.lock().live -= 1;
        self.0.ready.notify_all();
    }
}

/// Runs `job(0)`, `job(1)`, ... on worker threads and hands the results out in index order.
///
/// At most `capacity` items are in flight or buffered at once. Dropping the pool stops the
/// workers (each finishes at most the item it is building) and joins them.
pub(crate) struct OrderedPool<T: Send + 'static> {
    shared: Arc<Shared<T>>,
    handles: Vec<JoinHandle<()>>,
    next: usize,
}

impl<T: Send + 'static> OrderedPool<T> {
    /// Starts `workers` threads over indices `0..end` (`None`: no end). `what` names the job
    /// in the error a panic becomes.
    pub(crate) fn start(
        job: Job<T>,
        end: Option<usize>,
        workers: usize,
        capacity: usize,
        what: &'static str,
    ) -> Result<Self> {
        let workers = workers.min(end.unwrap_or(usize::MAX)).min(capacity);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next_claim: 0,
                taken: 0,
                done: BTreeMap::new(),
                stop: false,
                live: workers,
            }),
            room: Condvar::new(),
            ready: Condvar::new(),
            capacity,
            end,
        });
        let mut pool = OrderedPool {
            shared: Arc::clone(&shared),
            handles: Vec::with_capacity(workers),
            next: 0,
        };
        for w in 0..workers {
            let for_worker = Arc::clone(&shared);
            let job = Arc::clone(&job);
            let spawned = std::thread::Builder::new()
                .name(format!("augflow-prefetch-{w}"))
                .spawn(move || worker(&for_worker, &*job, what));
            match spawned {
                Ok(h) => pool.handles.push(h),
                Err(e) => {
                    // The threads not started will never decrement `live`.
                    shared.lock().live -= workers - w;
                    // Dropping `pool` stops and joins the ones already running.
                    return Err(Error::invalid(
                        "num_threads",
                        workers,
                        format!("a number of threads the OS can start (spawning failed: {e})"),
                    ));
                }
            }
        }
        Ok(pool)
    }

    /// The next item in index order; `None` after the end.
    pub(crate) fn next_item(&mut self) -> Option<Result<T>> {
        if self.shared.end.is_some_and(|e| self.next >= e) {
            return None;
        }
        let mut st = self.shared.lock();
        loop {
            if let Some(r) = st.done.remove(&self.next) {
                self.next += 1;
                st.taken = self.next;
                drop(st);
                self.shared.room.notify_all();
                return Some(r);
            }
            if st.live == 0 {
                // Unreachable unless a worker died outside `catch_unwind`; never hang.
                self.next += 1;
                return Some(Err(Error::UserFunction {
                    what: "prefetch".into(),
                    message: "every worker thread exited before producing this item".into(),
                }));
            }
            st = self
                .shared
                .ready
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Number of worker threads started.
    #[cfg(test)]
    pub(crate) fn workers(&self) -> usize {
        self.handles.len()
    }
}

fn worker<T>(shared: &Shared<T>, job: &(dyn Fn(usize) -> Result<T> + Send + Sync), what: &str) {
    let _live = LiveGuard(shared);
    let mut st = shared.lock();
    loop {
        if st.stop {
            return;
        }
        let i = st.next_claim;
        if shared.end.is_some_and(|e| i >= e) {
            return;
        }
        if i >= st.taken.saturating_add(shared.capacity) {
            st = shared.room.wait(st).unwrap_or_else(PoisonError::into_inner);
            continue;
        }
        st.next_claim += 1;
        drop(st);
        let r = catch_panic(|| format!("{what}({i})"), || job(i));
        st = shared.lock();
        if st.stop {
            return;
        }
        st.done.insert(i, r);
        shared.ready.notify_all();
    }
}

impl<T: Send + 'static> Drop for OrderedPool<T> {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.room.notify_all();
        for h in self.handles.drain(..) {
            // A worker cannot panic outside `catch_unwind`; ignore the impossible case rather
            // than panic in drop.
            let _ = h.join();
        }
    }
}

/// Ordered, bounded prefetch over any [`Sequence`]: `workers` threads call
/// [`Sequence::get`] ahead of the consumer, at most `capacity` items are built or buffered at
/// once, and items come out in index order `0, 1, ..., len - 1` whatever the thread timing.
///
/// An error from `get` reaches the consumer at its index; a panic in `get` becomes an
/// [`Error::UserFunction`]. Dropping the epoch iterator mid-epoch stops the workers and joins
/// them (each finishes at most the item it is building).
///
/// ```
/// use augflow::pipeline::Prefetch;
/// use augflow::{Result, Sequence};
///
/// struct Squares;
/// impl Sequence for Squares {
///     type Item = usize;
///     fn len(&self) -> usize { 6 }
///     fn get(&self, i: usize) -> Result<usize> {
///         augflow::iterators::check_index(i, 6)?;
///         Ok(i * i)
///     }
///     fn on_epoch_end(&mut self) {}
/// }
///
/// let mut pf = Prefetch::new(Squares, 3, 4)?;
/// let items: Vec<usize> = pf.epoch()?.collect::<Result<_>>()?;
/// assert_eq!(items, [0, 1, 4, 9, 16, 25]);
/// pf.on_epoch_end();
/// # Ok::<(), augflow::Error>(())
/// ```
pub struct Prefetch<S> {
    seq: Arc<RwLock<S>>,
    workers: usize,
    capacity: usize,
}

impl<S> Prefetch<S>
where
    S: Sequence + Send + 'static,
    S::Item: 'static,
{
    /// Wraps `seq` with `workers` threads and a window of `capacity` items.
    ///
    /// Errors with [`Error::InvalidParameter`] when `workers` or `capacity` is 0.
    ///
    /// ```
    /// # use augflow::{Result, Sequence};
    /// # struct S;
    /// # impl Sequence for S {
    /// #     type Item = u8;
    /// #     fn len(&self) -> usize { 0 }
    /// #     fn get(&self, i: usize) -> Result<u8> { augflow::iterators::check_index(i, 0).map(|_| 0) }
    /// #     fn on_epoch_end(&mut self) {}
    /// # }
    /// use augflow::pipeline::Prefetch;
    /// assert!(Prefetch::new(S, 0, 4).is_err());
    /// assert!(Prefetch::new(S, 2, 0).is_err());
    /// ```
    pub fn new(seq: S, workers: usize, capacity: usize) -> Result<Self> {
        if workers == 0 {
            return Err(Error::invalid("workers", 0, "at least 1 thread"));
        }
        if capacity == 0 {
            return Err(Error::invalid(
                "capacity",
                0,
                "at least 1 item buffered ahead",
            ));
        }
        Ok(Prefetch {
            seq: Arc::new(RwLock::new(seq)),
            workers,
            capacity,
        })
    }

    /// Number of items in one epoch (the sequence's `len()`).
    ///
    /// ```
    /// # use augflow::{Result, Sequence};
    /// # struct S;
    /// # impl Sequence for S {
    /// #     type Item = u8;
    /// #     fn len(&self) -> usize { 3 }
    /// #     fn get(&self, _: usize) -> Result<u8> { Ok(0) }
    /// #     fn on_epoch_end(&mut self) {}
    /// # }
    /// assert_eq!(augflow::pipeline::Prefetch::new(S, 1, 1)?.len(), 3);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.seq
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether an epoch holds no item.
    ///
    /// ```
    /// # use augflow::{Result, Sequence};
    /// # struct S;
    /// # impl Sequence for S {
    /// #     type Item = u8;
    /// #     fn len(&self) -> usize { 0 }
    /// #     fn get(&self, _: usize) -> Result<u8> { Ok(0) }
    /// #     fn on_epoch_end(&mut self) {}
    /// # }
    /// assert!(augflow::pipeline::Prefetch::new(S, 1, 1)?.is_empty());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts the workers for one pass over the current epoch and returns the iterator of
    /// its items in index order. The workers stop when the iterator is exhausted or dropped.
    ///
    /// Errors with [`Error::InvalidParameter`] if the OS cannot start the threads.
    ///
    /// ```
    /// # use augflow::{Result, Sequence};
    /// # struct S;
    /// # impl Sequence for S {
    /// #     type Item = usize;
    /// #     fn len(&self) -> usize { 100 }
    /// #     fn get(&self, i: usize) -> Result<usize> { Ok(i) }
    /// #     fn on_epoch_end(&mut self) {}
    /// # }
    /// let mut pf = augflow::pipeline::Prefetch::new(S, 4, 8)?;
    /// let first_three: Vec<usize> = pf.epoch()?.take(3).collect::<augflow::Result<_>>()?;
    /// assert_eq!(first_three, [0, 1, 2]); // the rest is cancelled, the threads joined
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn epoch(&mut self) -> Result<PrefetchEpoch<'_, S::Item>> {
        self.epoch_from(0)
    }

    /// Like [`epoch`](Self::epoch), starting at item `start` of the current epoch: where a
    /// run restored with [`restore`](Self::restore) continues.
    ///
    /// ```
    /// # use augflow::{Result, Sequence};
    /// # struct S;
    /// # impl Sequence for S {
    /// #     type Item = usize;
    /// #     fn len(&self) -> usize { 5 }
    /// #     fn get(&self, i: usize) -> Result<usize> { Ok(i) }
    /// #     fn on_epoch_end(&mut self) {}
    /// # }
    /// let mut pf = augflow::pipeline::Prefetch::new(S, 2, 2)?;
    /// let mut rest = pf.epoch_from(3)?;
    /// assert_eq!(rest.position(), 3);
    /// assert_eq!(rest.next().unwrap()?, 3);
    /// assert_eq!(rest.position(), 4);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn epoch_from(&mut self, start: usize) -> Result<PrefetchEpoch<'_, S::Item>> {
        let seq = Arc::clone(&self.seq);
        let len = self.len().saturating_sub(start);
        let job: Job<S::Item> = Arc::new(move |i| {
            seq.read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(i + start)
        });
        Ok(PrefetchEpoch {
            pool: OrderedPool::start(job, Some(len), self.workers, self.capacity, "Sequence::get")?,
            len,
            position: start,
            _prefetch: PhantomData,
        })
    }

    /// Calls [`Sequence::on_epoch_end`] on the wrapped sequence (new permutation, new
    /// transforms) before the next [`Prefetch::epoch`].
    ///
    /// ```
    /// # use augflow::{Result, Sequence};
    /// # struct S(usize);
    /// # impl Sequence for S {
    /// #     type Item = usize;
    /// #     fn len(&self) -> usize { 1 }
    /// #     fn get(&self, _: usize) -> Result<usize> { Ok(self.0) }
    /// #     fn on_epoch_end(&mut self) { self.0 += 1 }
    /// # }
    /// let mut pf = augflow::pipeline::Prefetch::new(S(0), 1, 1)?;
    /// pf.on_epoch_end();
    /// assert_eq!(pf.epoch()?.next().unwrap()?, 1);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn on_epoch_end(&mut self) {
        self.seq
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .on_epoch_end();
    }

    /// Gives the sequence back.
    ///
    /// Errors with [`Error::Contract`] only if an epoch iterator was leaked with
    /// `std::mem::forget`, so that its threads still hold the sequence.
    ///
    /// ```
    /// # use augflow::{Result, Sequence};
    /// # struct S(usize);
    /// # impl Sequence for S {
    /// #     type Item = usize;
    /// #     fn len(&self) -> usize { 1 }
    /// #     fn get(&self, _: usize) -> Result<usize> { Ok(self.0) }
    /// #     fn on_epoch_end(&mut self) { self.0 += 1 }
    /// # }
    /// let pf = augflow::pipeline::Prefetch::new(S(7), 2, 2)?;
    /// assert_eq!(pf.into_inner()?.0, 7);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn into_inner(self) -> Result<S> {
        match Arc::try_unwrap(self.seq) {
            Ok(lock) => Ok(lock.into_inner().unwrap_or_else(PoisonError::into_inner)),
            Err(_) => Err(Error::Contract {
                what: "Prefetch::into_inner".into(),
                message: "an epoch iterator was leaked (mem::forget) and its worker threads \
                          still hold the sequence"
                    .into(),
            }),
        }
    }
}

impl<S> Prefetch<S>
where
    S: Resumable + Send + 'static,
    S::Item: 'static,
{
    /// The state of a run that has consumed `position` items of the current epoch (take it
    /// from [`PrefetchEpoch::position`]).
    pub fn state(&self, position: usize) -> IteratorState {
        self.seq
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .state(position)
    }

    /// Restores the wrapped sequence from `state` and returns the position to continue
    /// from with [`epoch_from`](Self::epoch_from).
    pub fn restore(&mut self, state: &IteratorState) -> Result<usize> {
        self.seq
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .restore(state)
    }
}

/// One prefetched pass over a [`Prefetch`]'s sequence: yields `Result<Item>` in index order.
/// Dropping it stops and joins the worker threads.
///
/// ```
/// # use augflow::{Result, Sequence};
/// # struct S;
/// # impl Sequence for S {
/// #     type Item = usize;
/// #     fn len(&self) -> usize { 5 }
/// #     fn get(&self, i: usize) -> Result<usize> { Ok(10 * i) }
/// #     fn on_epoch_end(&mut self) {}
/// # }
/// let mut pf = augflow::pipeline::Prefetch::new(S, 2, 3)?;
/// let epoch = pf.epoch()?;
/// assert_eq!(epoch.len(), 5);
/// assert_eq!(epoch.map(|r| r.unwrap()).last(), Some(40));
/// # Ok::<(), augflow::Error>(())
/// ```
pub struct PrefetchEpoch<'a, T: Send + 'static> {
    pool: OrderedPool<T>,
    len: usize,
    /// Items of the epoch handed to the consumer so far (those built ahead do not count).
    position: usize,
    _prefetch: PhantomData<&'a mut ()>,
}

impl<T: Send + 'static> PrefetchEpoch<'_, T> {
    /// Items of the epoch consumed so far: the index of the next item. Items that workers
    /// built ahead but the consumer has not taken do not count, so this is the position to
    /// store in a checkpoint.
    pub fn position(&self) -> usize {
        self.position
    }
}

impl<T: Send + 'static> Iterator for PrefetchEpoch<'_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        let r = self.pool.next_item();
        if r.is_some() {
            self.len -= 1;
            self.position += 1;
        }
        r
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl<T: Send + 'static> ExactSizeIterator for PrefetchEpoch<'_, T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    fn pool_of(
        f: impl Fn(usize) -> Result<usize> + Send + Sync + 'static,
        end: Option<usize>,
        workers: usize,
        capacity: usize,
    ) -> OrderedPool<usize> {
        OrderedPool::start(Arc::new(f), end, workers, capacity, "job").unwrap()
    }

    #[test]
    fn items_come_out_in_index_order_despite_uneven_work() {
        // Early indices are the slowest, so workers finish them last.
        let mut pool = pool_of(
            |i| {
                std::thread::sleep(Duration::from_millis(((20 - i) % 5) as u64 * 3));
                Ok(i)
            },
            Some(20),
            4,
            6,
        );
        let got: Vec<usize> = std::iter::from_fn(|| pool.next_item())
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(got, (0..20).collect::<Vec<_>>());
        assert!(pool.next_item().is_none());
    }

    #[test]
    fn never_more_than_capacity_items_built_ahead() {
        let started = Arc::new(AtomicUsize::new(0));
        let s = Arc::clone(&started);
        let mut pool = pool_of(
            move |i| {
                s.fetch_add(1, Ordering::SeqCst);
                Ok(i)
            },
            None,
            4,
            3,
        );
        assert_eq!(pool.next_item().unwrap().unwrap(), 0);
        std::thread::sleep(Duration::from_millis(100));
        // Taken 1; the window allows indices 1..4 to be built: 4 started in all.
        assert_eq!(started.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn errors_and_panics_arrive_at_their_index() {
        let mut pool = pool_of(
            |i| match i {
                1 => Err(Error::EndOfInput("boom".into())),
                2 => panic!("kaboom {i}"),
                _ => Ok(i),
            },
            Some(4),
            3,
            4,
        );
        assert_eq!(pool.next_item().unwrap().unwrap(), 0);
        assert!(matches!(pool.next_item(), Some(Err(Error::EndOfInput(_)))));
        match pool.next_item() {
            Some(Err(Error::UserFunction { what, message })) => {
                assert_eq!(what, "job(2)");
                assert!(message.contains("kaboom 2"), "{message}");
            }
            other => panic!("expected a UserFunction error, got {other:?}"),
        }
        assert_eq!(pool.next_item().unwrap().unwrap(), 3);
    }

    #[test]
    fn workers_are_capped_by_items_and_capacity() {
        assert_eq!(pool_of(Ok, Some(2), 8, 16).workers(), 2);
        assert_eq!(pool_of(Ok, None, 8, 3).workers(), 3);
    }

    #[test]
    fn dropping_mid_stream_joins_promptly() {
        let mut pool = pool_of(
            |i| {
                std::thread::sleep(Duration::from_millis(30));
                Ok(i)
            },
            None,
            4,
            64,
        );
        pool.next_item().unwrap().unwrap();
        let t = Instant::now();
        drop(pool);
        // Each worker finishes at most its current item (30 ms), not the 64-item window.
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
    }
}
