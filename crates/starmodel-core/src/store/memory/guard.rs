//! The memory store's locks, taken even when poisoned (see [`lock`] for why that
//! is safe).

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a slot cannot leave it half-written: events run on a
    // copy and the slot is assigned in one step.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}
