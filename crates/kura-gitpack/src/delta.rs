//! Git's delta format, written: an object as copies of stretches of a base object and literal
//! bytes, which a pack stores (deflated) in place of the whole object.
//!
//! The format (git's `patch-delta.c`): the base's size and the result's size as little-endian
//! base-128 numbers, then instructions. An instruction byte with its top bit set copies from the
//! base: bits 0–3 say which of four offset bytes follow, bits 4–6 which of three size bytes
//! (a size of 0 means 0x10000). One of 1–127 inserts that many literal bytes, which follow it.
//!
//! The encoder is built for speed over the last byte of size, as the first version of a project
//! needs it: it indexes the base by blocks of [`BLOCK`] bytes (one hash each), looks up every
//! position of the target, and extends each match forwards eight bytes at a time and backwards
//! over the literals before it. Matches shorter than a block are not looked for. It gives up as
//! soon as the delta would exceed a limit, so a base that shares little costs little; and before
//! it looks at every position of a longer target, it looks at a few stretches of it
//! ([`SAMPLES`]): a target whose delta fits the limit is mostly copies, so most of them are
//! found in the base, and one that is not alike is given up on after those.

/// Bytes per indexed block of the base; also the shortest match looked for.
const BLOCK: usize = 16;
/// The most bytes one copy instruction carries as this encoder writes them.
const MAX_COPY: usize = 0x10000;
/// The most literal bytes one insert instruction carries.
const MAX_INSERT: usize = 127;
/// Stretches of a target looked up in the base before the whole search, spread evenly over it.
const SAMPLES: usize = 16;
/// The shortest target sampled first (a shorter one is searched whole: that costs little).
const SAMPLED_FROM: usize = 64 * SAMPLES;

/// The delta that turns `base` into `target`, if it is at most `limit` bytes long.
///
/// Returns `None` when either is shorter than a block, when `base` is 4 GiB or more (copy
/// offsets are 32 bits), or when the delta would be longer than `limit`.
#[cfg(test)]
pub(crate) fn encode(base: &[u8], target: &[u8], limit: usize) -> Option<Vec<u8>> {
    encode_with(base, &Index::new(base), target, limit)
}

/// [`encode`] with the base's index built already (see [`Index::new`]).
pub(crate) fn encode_with(
    base: &[u8],
    index: &Index,
    target: &[u8],
    limit: usize,
) -> Option<Vec<u8>> {
    if base.len() < BLOCK || target.len() < BLOCK || u32::try_from(base.len()).is_err() {
        return None;
    }
    if !mostly_found(base, index, target, limit) {
        return None;
    }
    let mut out = Vec::with_capacity(limit.min(target.len()) + 32);
    push_size(&mut out, base.len());
    push_size(&mut out, target.len());
    // Target bytes before `lit_start` are encoded; those from it to `at` wait as literals.
    let mut lit_start = 0;
    let mut at = 0;
    while at + BLOCK <= target.len() {
        let Some(found) = index.find(base, &target[at..]) else {
            at += 1;
            if out.len() + (at - lit_start) > limit {
                return None;
            }
            continue;
        };
        let forward = BLOCK + common_prefix(&base[found + BLOCK..], &target[at + BLOCK..]);
        let backward = common_suffix(&base[..found], &target[lit_start..at]);
        push_literals(&mut out, &target[lit_start..at - backward]);
        push_copy(&mut out, found - backward, forward + backward);
        at += forward;
        lit_start = at;
        if out.len() > limit {
            return None;
        }
    }
    push_literals(&mut out, &target[lit_start..]);
    (out.len() <= limit).then_some(out)
}

/// Whether the sampled stretches of `target` say its delta may fit in `limit`: at least a
/// quarter of them are found in the base (a delta of at most half the target copies at least
/// half of it). A stretch is a block's worth of positions, so that a copied stretch meets one
/// position where the base's indexed blocks line up with it.
fn mostly_found(base: &[u8], index: &Index, target: &[u8], limit: usize) -> bool {
    if target.len() < SAMPLED_FROM || limit > target.len() / 2 {
        return true;
    }
    let step = (target.len() - 2 * BLOCK) / SAMPLES;
    let found = (0..SAMPLES)
        .filter(|s| {
            let at = s * step;
            (at..at + BLOCK).any(|p| index.find(base, &target[p..]).is_some())
        })
        .count();
    found * 4 >= SAMPLES
}

/// The base's blocks by hash: the position of the first block with each hash, and a filter
/// that says, in an eighth of the table's memory, which longer hashes no block has.
///
/// Most positions of a target not found in the base are turned away by the filter, whose bits
/// stay in the CPU's cache; the table of a large base does not, and a lookup in it (then in the
/// base's bytes it points at) waits on memory.
#[derive(Debug)]
pub(crate) struct Index {
    shift: u32,
    /// Position + 1 of a block; 0 for none.
    slots: Vec<u32>,
    /// A bit for each value of the hash's top bits (two more bits than a slot's): set when some
    /// block of the base has it.
    filter: Vec<u64>,
}

/// How many more top bits of a hash the filter tells apart than the table: four filter bits a
/// slot, about eight a block.
const FILTER_EXTRA_BITS: u32 = 2;

impl Index {
    /// Indexes the blocks of `base` (of those below 4 GiB: a longer base gets no delta).
    pub(crate) fn new(base: &[u8]) -> Index {
        let mut index = Index {
            shift: 0,
            slots: Vec::new(),
            filter: Vec::new(),
        };
        index.rebuild(base);
        index
    }

    /// Indexes the blocks of `base` in place of what this indexed, in the same memory when it
    /// is large enough (a new table for every base costs page faults on each of its pages).
    pub(crate) fn rebuild(&mut self, base: &[u8]) {
        let blocks = base.len().min(u32::MAX as usize) / BLOCK;
        // About two slots per block, at least 16.
        let bits = (usize::BITS - blocks.leading_zeros()).max(3) + 1;
        self.slots.clear();
        self.slots.resize(1 << bits, 0);
        self.shift = 64 - bits;
        self.filter.clear();
        self.filter.resize(1 << (bits + FILTER_EXTRA_BITS - 6), 0);
        let (slots, filter, shift) = (&mut self.slots, &mut self.filter, self.shift);
        for at in (0..blocks * BLOCK).step_by(BLOCK) {
            let h = hash(&base[at..]);
            let bit = h >> (shift - FILTER_EXTRA_BITS);
            filter[(bit >> 6) as usize] |= 1 << (bit & 63);
            let slot = &mut slots[(h >> shift) as usize];
            if *slot == 0 {
                *slot = at as u32 + 1;
            }
        }
    }

    /// Where in `base` the first block of `rest` is, if a block there holds the same bytes.
    fn find(&self, base: &[u8], rest: &[u8]) -> Option<usize> {
        let h = hash(rest);
        if !self.may_hold(h) {
            return None;
        }
        let slot = self.slots[(h >> self.shift) as usize];
        let at = slot.checked_sub(1)? as usize;
        (base[at..at + BLOCK] == rest[..BLOCK]).then_some(at)
    }

    /// Whether a block with hash `h` may be in the base: false when the filter says no block is.
    fn may_hold(&self, h: u64) -> bool {
        let bit = h >> (self.shift - FILTER_EXTRA_BITS);
        self.filter[(bit >> 6) as usize] & (1 << (bit & 63)) != 0
    }
}

/// A hash of the first [`BLOCK`] bytes of `bytes`, good in its top bits.
fn hash(bytes: &[u8]) -> u64 {
    let a = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    let b = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    (a ^ b.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// How many bytes `a` and `b` share from their start, compared eight at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().expect("8 bytes"));
        let y = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// How many bytes `a` and `b` share at their ends.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// A size in the delta's header: seven bits a byte, low bits first.
fn push_size(out: &mut Vec<u8>, mut size: usize) {
    while size >= 0x80 {
        out.push((size & 0x7f) as u8 | 0x80);
        size >>= 7;
    }
    out.push(size as u8);
}

fn push_literals(out: &mut Vec<u8>, bytes: &[u8]) {
    for run in bytes.chunks(MAX_INSERT) {
        out.push(run.len() as u8);
        out.extend_from_slice(run);
    }
}

/// Copy instructions for `len` bytes of the base from `offset` (below 4 GiB).
fn push_copy(out: &mut Vec<u8>, mut offset: usize, mut len: usize) {
    while len > 0 {
        let n = len.min(MAX_COPY);
        let at = out.len();
        let mut op = 0x80u8;
        out.push(op);
        for (i, byte) in (offset as u32).to_le_bytes().into_iter().enumerate() {
            if byte != 0 {
                op |= 1 << i;
                out.push(byte);
            }
        }
        // A size of 0x10000 is written as no size bytes at all.
        let size = if n == MAX_COPY { 0 } else { n as u32 };
        for (i, byte) in size.to_le_bytes()[..3].iter().enumerate() {
            if *byte != 0 {
                op |= 0x10 << i;
                out.push(*byte);
            }
        }
        out[at] = op;
        offset += n;
        len -= n;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Applies a delta as git's `patch_delta` does, refusing anything it would refuse.
    pub(crate) fn apply(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
        fn size(delta: &[u8], at: &mut usize) -> Option<usize> {
            let mut size = 0usize;
            let mut shift = 0;
            loop {
                let byte = *delta.get(*at)?;
                *at += 1;
                size |= usize::from(byte & 0x7f) << shift;
                shift += 7;
                if byte & 0x80 == 0 {
                    return Some(size);
                }
            }
        }
        let mut at = 0;
        if size(delta, &mut at)? != base.len() {
            return None;
        }
        let result_size = size(delta, &mut at)?;
        let mut out = Vec::with_capacity(result_size);
        while at < delta.len() {
            let op = delta[at];
            at += 1;
            if op & 0x80 != 0 {
                let mut field = |bits: u8, count: usize| -> Option<usize> {
                    let mut v = 0usize;
                    for i in 0..count {
                        if op & (bits << i) != 0 {
                            v |= usize::from(*delta.get(at)?) << (8 * i);
                            at += 1;
                        }
                    }
                    Some(v)
                };
                let offset = field(0x01, 4)?;
                let mut len = field(0x10, 3)?;
                if len == 0 {
                    len = 0x10000;
                }
                out.extend_from_slice(base.get(offset..offset.checked_add(len)?)?);
            } else if op != 0 {
                out.extend_from_slice(delta.get(at..at + usize::from(op))?);
                at += usize::from(op);
            } else {
                return None;
            }
        }
        (out.len() == result_size).then_some(out)
    }

    /// Bytes from a small generator, reproducible by seed.
    pub(crate) fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn edited_copies_round_trip_and_are_small() {
        let base = noise(1, 300_000);
        // An insertion, a deletion, a changed byte and a moved stretch.
        let mut target = base[..1000].to_vec();
        target.extend_from_slice(b"inserted text");
        target.extend_from_slice(&base[1000..50_000]);
        target.extend_from_slice(&base[60_000..200_000]);
        target[70_000] ^= 0xff;
        target.extend_from_slice(&base[250_000..]);
        target.extend_from_slice(&base[200_000..250_000]);
        let delta = encode(&base, &target, target.len() / 2).expect("a small delta");
        assert!(delta.len() < 200, "{} bytes", delta.len());
        assert_eq!(apply(&base, &delta).as_deref(), Some(&target[..]));
    }

    #[test]
    fn long_copies_are_split_and_offsets_need_every_byte() {
        // Over 16 MiB, so that copies need a third offset byte, and runs of 0x10000 and more.
        let base = noise(2, (16 << 20) + 70_000);
        let mut target = base[(16 << 20) + 1..].to_vec();
        target.extend_from_slice(&base[..3 * MAX_COPY + 5]);
        let delta = encode(&base, &target, 1000).expect("a small delta");
        assert_eq!(apply(&base, &delta).as_deref(), Some(&target[..]));
    }

    #[test]
    fn unrelated_content_gives_no_delta_and_short_input_none() {
        let base = noise(3, 100_000);
        let target = noise(4, 100_000);
        assert_eq!(encode(&base, &target, target.len() / 2), None);
        assert_eq!(encode(&base[..15], &target, usize::MAX), None);
        assert_eq!(encode(&base, &target[..15], usize::MAX), None);
    }

    #[test]
    fn a_target_copied_in_stretches_passes_the_samples_and_an_unrelated_one_does_not() {
        let base = noise(9, 200_000);
        let index = Index::new(&base);
        // Stretches of 600 bytes of the base, each after 400 new bytes: 60% copies, at offsets
        // that do not line up with the base's blocks.
        let mut target = Vec::new();
        for i in 0..100 {
            target.extend_from_slice(&noise(100 + i, 400));
            let from = 1_003 + i as usize * 1_901;
            target.extend_from_slice(&base[from..from + 600]);
        }
        let limit = target.len() / 2;
        assert!(mostly_found(&base, &index, &target, limit));
        let delta = encode_with(&base, &index, &target, limit).expect("a delta under half");
        assert_eq!(apply(&base, &delta).as_deref(), Some(&target[..]));

        let unrelated = noise(10, target.len());
        assert!(!mostly_found(&base, &index, &unrelated, limit));
        // A limit over half the target is searched whole, whatever the samples say.
        assert!(mostly_found(&base, &index, &unrelated, unrelated.len()));
    }

    #[test]
    fn an_index_rebuilt_for_another_base_forgets_the_one_before() {
        let large = noise(11, 300_000);
        let small = noise(12, 5_000);
        let mut index = Index::new(&large);
        index.rebuild(&small);
        // The same table and filter as an index made for the small base alone, in the larger
        // one's memory.
        let fresh = Index::new(&small);
        assert_eq!(
            (index.shift, &index.slots, &index.filter),
            (fresh.shift, &fresh.slots, &fresh.filter)
        );
        // A copy of the large base is no longer found; an edited copy of the small one is.
        assert_eq!(encode_with(&small, &index, &large[..4_000], 2_000), None);
        let mut target = small.clone();
        target[2_500] ^= 1;
        let delta = encode_with(&small, &index, &target, 2_500).expect("a small delta");
        assert_eq!(apply(&small, &delta).as_deref(), Some(&target[..]));
    }

    /// What [`Index::find`] gives without its filter: the table alone.
    fn find_in_table(index: &Index, base: &[u8], rest: &[u8]) -> Option<usize> {
        let at = index.slots[(hash(rest) >> index.shift) as usize].checked_sub(1)? as usize;
        (base[at..at + BLOCK] == rest[..BLOCK]).then_some(at)
    }

    #[test]
    fn the_filter_turns_away_most_positions_a_base_lacks_and_nothing_the_table_finds() {
        // Bases from one block to past a filter word's worth of slots, looked up at every
        // position of an edited copy of themselves and of unrelated bytes.
        for len in [16, 17, 100, 1_000, 40_000, 300_000] {
            let base = noise(len as u64, len);
            let index = Index::new(&base);
            let mut edited = base.clone();
            for at in (7..len).step_by(97) {
                edited[at] ^= 0x5a;
            }
            for p in 0..=len - BLOCK {
                let rest = &edited[p..];
                assert_eq!(index.find(&base, rest), find_in_table(&index, &base, rest));
            }
            let other = noise(len as u64 + 1_000_000, 20_000);
            let positions = other.len() - BLOCK + 1;
            let passed = (0..positions)
                .filter(|p| index.may_hold(hash(&other[*p..])))
                .count();
            // About one in eight passes (a block sets one bit of about eight).
            assert!(passed * 5 < positions, "len {len}: {passed} of {positions}");
            assert!((0..positions).all(|p| index.find(&base, &other[p..]).is_none()));
        }
    }

    #[test]
    fn every_pair_of_a_few_shapes_round_trips() {
        let shapes: Vec<Vec<u8>> = vec![
            vec![b'a'; 40],
            vec![0; 5000],
            noise(5, 16),
            noise(6, 17),
            noise(7, 4096),
            [noise(7, 4096), noise(8, 300), noise(7, 4096)].concat(),
            b"<html><head><title>x</title></head><body>hello</body></html>\n".repeat(50),
            b"<html><head><title>y</title></head><body>world</body></html>\n".repeat(49),
        ];
        for base in &shapes {
            for target in &shapes {
                if let Some(delta) = encode(base, target, usize::MAX) {
                    assert_eq!(apply(base, &delta).as_deref(), Some(&target[..]));
                }
            }
        }
    }
}
