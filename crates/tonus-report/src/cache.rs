//! Gathered dashboards kept between views: the report data (figures, calendar days, lists and
//! the rendered SVG charts) of a patient over a range, keyed by everything that changes it.
//!
//! The key holds the patient's data version (`Store::data_version`), which grows in the
//! transaction of every write of the patient's records: once a write has committed, every
//! later lookup reads the new version and misses, so an entry is never served after the data
//! it was built from changed. Stale entries are not removed; they are never asked for again
//! and age out of the LRU. Memory is bounded by an approximate byte count of the entries.

use std::hash::Hash;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hashlink::LruCache;
use jiff::civil::Date;

use crate::data::{Notes, ReportData, Section};

/// Everything a gathered dashboard depends on besides the rows themselves (which the data
/// version stands for).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DashboardKey {
    pub patient: i64,
    /// `Store::data_version` read before gathering.
    pub version: u64,
    pub from: Date,
    pub to: Date,
    /// The patient's today: what "active" treatments and open-ended periods are measured
    /// against, so yesterday's entry must not serve today's view.
    pub today: Date,
    /// The time zone's name: the version covers a change of it too; this keeps the key
    /// honest if a caller passes a patient read before the change.
    pub zone: String,
    pub sections: Vec<Section>,
    pub notes: Notes,
}

/// Hits and misses since start, and what the cache holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
    pub bytes: usize,
}

struct Entry {
    data: Arc<ReportData>,
    bytes: usize,
}

struct Inner {
    lru: LruCache<DashboardKey, Entry>,
    bytes: usize,
}

/// A least-recently-used cache of gathered dashboards, bounded by approximate bytes; a bound
/// of 0 disables it (nothing is stored, every lookup misses without counting). Thread-safe:
/// the lock is held only for the map operations, never across an await or a gather.
pub struct ReportCache {
    max_bytes: usize,
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ReportCache {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            inner: Mutex::new(Inner {
                lru: LruCache::new_unbounded(),
                bytes: 0,
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Whether anything is kept at all (callers skip reading the data version otherwise).
    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock can at worst leave the byte count off by one entry;
        // the cache stays usable rather than failing every later dashboard.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entry for `key`, marked most recently used; counts a hit or a miss.
    pub fn get(&self, key: &DashboardKey) -> Option<Arc<ReportData>> {
        if !self.enabled() {
            return None;
        }
        let found = self.lock().lru.get(key).map(|e| e.data.clone());
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Stores `data` under `key`, evicting the least recently used entries until the total
    /// fits. An entry larger than the whole bound is not stored.
    pub fn insert(&self, key: DashboardKey, data: Arc<ReportData>) {
        if !self.enabled() {
            return;
        }
        // Measured outside the lock: serialising a year's charts takes a moment.
        let bytes = approx_bytes(&data);
        if bytes > self.max_bytes {
            return;
        }
        let mut inner = self.lock();
        if let Some(old) = inner.lru.insert(key, Entry { data, bytes }) {
            inner.bytes = inner.bytes.saturating_sub(old.bytes);
        }
        inner.bytes += bytes;
        while inner.bytes > self.max_bytes {
            match inner.lru.remove_lru() {
                Some((_, e)) => inner.bytes = inner.bytes.saturating_sub(e.bytes),
                None => break,
            }
        }
    }

    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: inner.lru.len(),
            bytes: inner.bytes,
        }
    }
}

/// Counts bytes written, keeps none.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The size of `data` as JSON plus the fixed part of the struct: close to its heap use
/// (strings dominate: the SVG charts, notes, labels), a little over for escaped quotes.
pub fn approx_bytes(data: &ReportData) -> usize {
    let mut c = Counter(0);
    // Serialising into a counter cannot fail but for a bug in a Serialize impl; then count
    // the entry as too large to keep rather than as free.
    match serde_json::to_writer(&mut c, data) {
        Ok(()) => c.0 + std::mem::size_of::<ReportData>(),
        Err(_) => usize::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{build, ReportInput};
    use tonus_domain::time::Zone;

    fn data(patient: &str) -> ReportData {
        let zone = Zone::utc();
        build(&ReportInput {
            patient,
            zone: &zone,
            from: "2026-01-01".parse().unwrap(),
            to: "2026-03-31".parse().unwrap(),
            generated: jiff::Timestamp::UNIX_EPOCH,
            episodes: &[],
            checkins: &[],
            regimens: &[],
            doses: &[],
            exercise: &[],
            events: &[],
            side_effects: &[],
            trials: &[],
            notes: Notes::Hidden,
            sections: &Section::ALL,
            gentle_limit: 4,
        })
    }

    fn key(patient: i64, version: u64) -> DashboardKey {
        DashboardKey {
            patient,
            version,
            from: "2026-01-01".parse().unwrap(),
            to: "2026-03-31".parse().unwrap(),
            today: "2026-03-31".parse().unwrap(),
            zone: "UTC".to_string(),
            sections: Section::ALL.to_vec(),
            notes: Notes::Hidden,
        }
    }

    #[test]
    fn hits_misses_and_versions() {
        let cache = ReportCache::new(1 << 20);
        assert!(cache.get(&key(1, 1)).is_none());
        cache.insert(key(1, 1), Arc::new(data("a")));
        assert_eq!(cache.get(&key(1, 1)).map(|d| d.patient.clone()), Some("a".to_string()));
        assert!(cache.get(&key(1, 2)).is_none(), "a new version misses");
        assert!(cache.get(&key(2, 1)).is_none(), "another patient misses");
        let s = cache.stats();
        assert_eq!((s.hits, s.misses, s.entries), (1, 3, 1));
        assert!(s.bytes >= approx_bytes(&data("a")));
    }

    #[test]
    fn the_byte_bound_evicts_the_least_recently_used() {
        let one = approx_bytes(&data("a"));
        let cache = ReportCache::new(one * 2 + one / 2);
        cache.insert(key(1, 1), Arc::new(data("a")));
        cache.insert(key(2, 1), Arc::new(data("a")));
        assert!(cache.get(&key(1, 1)).is_some(), "touch 1: 2 is now the oldest");
        cache.insert(key(3, 1), Arc::new(data("a")));
        let s = cache.stats();
        assert_eq!(s.entries, 2);
        assert!(s.bytes <= one * 2 + one / 2, "{} bytes", s.bytes);
        assert!(cache.get(&key(2, 1)).is_none());
        assert!(cache.get(&key(1, 1)).is_some() && cache.get(&key(3, 1)).is_some());
        // Larger than the whole bound: not kept.
        let tiny = ReportCache::new(one / 2);
        tiny.insert(key(1, 1), Arc::new(data("a")));
        assert_eq!(tiny.stats().entries, 0);
    }

    #[test]
    fn zero_disables() {
        let cache = ReportCache::new(0);
        assert!(!cache.enabled());
        cache.insert(key(1, 1), Arc::new(data("a")));
        assert!(cache.get(&key(1, 1)).is_none());
        assert_eq!(cache.stats(), CacheStats::default());
    }
}
