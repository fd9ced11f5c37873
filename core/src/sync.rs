//! Locks that outlive a panic: a poisoned mutex still holds consistent data here (every holder
//! writes whole values), so it is taken rather than turned into a second panic.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, poisoned or not.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
