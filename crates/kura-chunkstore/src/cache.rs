//! A least-recently-used cache of decompressed chunks, bounded by bytes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::ChunkId;

pub(crate) struct ChunkCache {
    capacity: usize,
    used: usize,
    tick: u64,
    entries: HashMap<ChunkId, (Arc<Vec<u8>>, u64)>,
    by_age: BTreeMap<u64, ChunkId>,
}

impl ChunkCache {
    pub fn new(capacity: usize) -> ChunkCache {
        ChunkCache {
            capacity,
            used: 0,
            tick: 0,
            entries: HashMap::new(),
            by_age: BTreeMap::new(),
        }
    }

    pub fn get(&mut self, id: &ChunkId) -> Option<Arc<Vec<u8>>> {
        self.tick += 1;
        let tick = self.tick;
        let (data, age) = self.entries.get_mut(id)?;
        self.by_age.remove(age);
        *age = tick;
        self.by_age.insert(tick, *id);
        Some(Arc::clone(data))
    }

    pub fn insert(&mut self, id: ChunkId, data: Arc<Vec<u8>>) {
        if data.len() > self.capacity / 4 || self.entries.contains_key(&id) {
            return;
        }
        while self.used + data.len() > self.capacity {
            let Some((_, oldest)) = self.by_age.pop_first() else {
                break;
            };
            if let Some((old, _)) = self.entries.remove(&oldest) {
                self.used -= old.len();
            }
        }
        self.tick += 1;
        self.used += data.len();
        self.by_age.insert(self.tick, id);
        self.entries.insert(id, (data, self.tick));
    }

    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used_within_the_byte_budget() {
        let mut cache = ChunkCache::new(400);
        cache.insert([1; 32], Arc::new(vec![0; 100]));
        cache.insert([2; 32], Arc::new(vec![0; 100]));
        cache.insert([3; 32], Arc::new(vec![0; 100]));
        assert!(cache.get(&[1; 32]).is_some());
        cache.insert([4; 32], Arc::new(vec![0; 100]));
        cache.insert([5; 32], Arc::new(vec![0; 100]));
        assert!(cache.get(&[2; 32]).is_none(), "oldest unused entry evicted");
        assert!(cache.get(&[1; 32]).is_some(), "recently used entry kept");
        assert!(cache.used() <= 400);
        cache.insert([6; 32], Arc::new(vec![0; 101]));
        assert!(
            cache.get(&[6; 32]).is_none(),
            "entries above a quarter are not cached"
        );
    }
}
