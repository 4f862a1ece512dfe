//! A zlib stream of one deflate block in the fixed Huffman code (RFC 1951, 3.2.6), for the small
//! objects a snapshot writes at the fastest level.
//!
//! Most objects of a first version are small: of the Rust docs' 51,906 files, 46,324 are stored
//! as deltas, 29,499 of those deltas under 512 bytes. On such an input libdeflate spends most
//! of its time on what it does for any input: it clears its match finder's table (128 KiB) and
//! builds a Huffman code for the block before it finds that the fixed code costs about as
//! little. This encoder keeps a table of 4 KiB (2,048 positions) and writes the fixed code at
//! once: greedy matches of 4 bytes or more found through a hash of the next 4 bytes, every
//! position of a match hashed, the block ended, the Adler-32 after it.
//!
//! Those deltas, deflated one by one on one core (2026-11-29), libdeflate's fastest level
//! against this:
//!
//! | delta size | deltas | libdeflate | this | bytes out, libdeflate | this |
//! |---|---|---|---|---|---|
//! | under 128 bytes | 14,922 | 80 ms | 5 ms | 845,708 | 822,040 |
//! | 128–255 | 6,487 | 50 ms | 5 ms | 812,428 | 816,496 |
//! | 256–511 | 8,090 | 71 ms | 15 ms | 2,068,434 | 2,106,095 |
//! | 512–767 | 6,461 | 60 ms | 25 ms | 2,529,065 | 2,709,692 |
//!
//! From 512 bytes the fixed code costs 7% more bytes or more, where libdeflate's own code for
//! the block pays for the time it takes: that is [`MAX_INPUT`].

/// The largest input [`zlib_fixed`] takes.
pub(crate) const MAX_INPUT: usize = 511;

const HASH_BITS: u32 = 11;
const NO_POSITION: u16 = u16::MAX;
const MIN_MATCH: usize = 4;
const MAX_MATCH: usize = 258;
const END_OF_BLOCK: usize = 256;

/// The fixed code of each literal/length symbol: (code with its bits reversed, as deflate
/// writes them least significant first; length in bits).
const LITLEN: [(u16, u8); 288] = {
    let mut table = [(0u16, 0u8); 288];
    let mut sym = 0;
    while sym < 288 {
        let (code, len) = match sym {
            0..=143 => (0x30 + sym as u16, 8),
            144..=255 => (0x190 + (sym - 144) as u16, 9),
            256..=279 => ((sym - 256) as u16, 7),
            _ => (0xc0 + (sym - 280) as u16, 8),
        };
        table[sym] = (reverse(code, len), len);
        sym += 1;
    }
    table
};

const fn reverse(code: u16, len: u8) -> u16 {
    code.reverse_bits() >> (16 - len as u32)
}

/// Bits written least significant first, as deflate packs them.
struct Bits<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    count: u32,
}

impl Bits<'_> {
    #[inline(always)]
    fn put(&mut self, value: u32, len: u32) {
        self.acc |= u64::from(value) << self.count;
        self.count += len;
        if self.count >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.count -= 32;
        }
    }

    #[inline(always)]
    fn symbol(&mut self, sym: usize) {
        let (code, len) = LITLEN[sym];
        self.put(u32::from(code), u32::from(len));
    }

    /// Writes the bits left, the last byte padded with zeros.
    fn finish(self) {
        let bytes = self.count.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
    }
}

/// Writes a match of `len` (4..=258) bytes `dist` (1..=32768) bytes back.
#[inline(always)]
fn put_match(bits: &mut Bits<'_>, len: usize, dist: usize) {
    // Length: symbols 257..=284 cover 3..=257 in groups of four per extra bit; 258 is 285.
    let v = len - 3;
    if len == MAX_MATCH {
        bits.symbol(285);
    } else if v < 8 {
        bits.symbol(257 + v);
    } else {
        let log = usize::BITS - 1 - v.leading_zeros();
        let extra = log - 2;
        bits.symbol(257 + 4 * (log as usize - 1) + ((v >> extra) & 3));
        bits.put((v & ((1 << extra) - 1)) as u32, extra);
    }
    // Distance: codes 0..=3 are 1..=4; then two codes per extra bit. Each is 5 bits.
    let v = dist - 1;
    if v < 4 {
        bits.put(u32::from(reverse(v as u16, 5)), 5);
    } else {
        let log = usize::BITS - 1 - v.leading_zeros();
        let extra = log - 1;
        let code = 2 * log as usize + ((v >> extra) & 1);
        bits.put(u32::from(reverse(code as u16, 5)), 5);
        bits.put((v & ((1 << extra) - 1)) as u32, extra);
    }
}

#[inline(always)]
fn read4(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

#[inline(always)]
fn hash(word: u32) -> usize {
    (word.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

/// Appends to `out` the zlib stream of `data` (at most [`MAX_INPUT`] bytes): a header that says
/// "fastest", one final block in the fixed code, and the Adler-32 of `data`.
pub(crate) fn zlib_fixed(data: &[u8], out: &mut Vec<u8>) {
    debug_assert!(data.len() <= MAX_INPUT);
    out.reserve(data.len() + data.len() / 8 + 16);
    out.extend_from_slice(&[0x78, 0x01]);
    let mut bits = Bits {
        out,
        acc: 0,
        count: 0,
    };
    bits.put(0b011, 3); // BFINAL = 1, BTYPE = 01 (fixed Huffman codes)
    let mut table = [NO_POSITION; 1 << HASH_BITS];
    let n = data.len();
    let mut at = 0;
    while at + MIN_MATCH <= n {
        let word = read4(data, at);
        let slot = hash(word);
        let candidate = table[slot];
        table[slot] = at as u16;
        if candidate != NO_POSITION && read4(data, candidate as usize) == word {
            let from = candidate as usize;
            let mut len = MIN_MATCH;
            let longest = (n - at).min(MAX_MATCH);
            while len < longest && data[from + len] == data[at + len] {
                len += 1;
            }
            put_match(&mut bits, len, at - from);
            for p in at + 1..(at + len).min(n + 1 - MIN_MATCH) {
                table[hash(read4(data, p))] = p as u16;
            }
            at += len;
        } else {
            bits.symbol(usize::from(data[at]));
            at += 1;
        }
    }
    for &byte in &data[at..] {
        bits.symbol(usize::from(byte));
    }
    bits.symbol(END_OF_BLOCK);
    bits.finish();
    out.extend_from_slice(&adler32(data).to_be_bytes());
}

thread_local! {
    /// A decompressor per thread for [`inflates_to`] (libdeflate keeps its fixed-code tables in
    /// it once built).
    static INFLATER: std::cell::RefCell<libdeflater::Decompressor> =
        std::cell::RefCell::new(libdeflater::Decompressor::new());
}

/// Whether `stream` inflates to exactly `data` (at most [`MAX_INPUT`] bytes), by libdeflate's
/// decoder: each stream this encoder writes is read back before it is stored, for about a
/// tenth of what libdeflate would have taken to write it.
pub(crate) fn inflates_to(stream: &[u8], data: &[u8]) -> bool {
    let mut back = [0u8; MAX_INPUT];
    let back = &mut back[..data.len()];
    INFLATER.with(
        |cell| matches!(cell.borrow_mut().zlib_decompress(stream, back), Ok(n) if n == data.len()),
    ) && back == data
}

/// Adler-32 of at most [`MAX_INPUT`] bytes: the sums cannot overflow before the one reduction
/// (zlib reduces them every 5,552 bytes).
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a += u32::from(byte);
        b += a;
    }
    ((b % MOD) << 16) | (a % MOD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Inflates a zlib stream with two decoders that share no code with this one.
    fn inflate_both(stream: &[u8], len: usize) -> Vec<u8> {
        let mut by_zlib = Vec::new();
        flate2::read::ZlibDecoder::new(stream)
            .read_to_end(&mut by_zlib)
            .expect("zlib-rs inflates it");
        let mut by_libdeflate = vec![0u8; len];
        let n = libdeflater::Decompressor::new()
            .zlib_decompress(stream, &mut by_libdeflate)
            .expect("libdeflate inflates it");
        assert_eq!(n, len);
        assert_eq!(by_zlib, by_libdeflate);
        by_zlib
    }

    fn round_trip(data: &[u8]) {
        let mut stream = Vec::new();
        zlib_fixed(data, &mut stream);
        assert_eq!(
            inflate_both(&stream, data.len()),
            data,
            "input of {} bytes",
            data.len()
        );
        assert!(inflates_to(&stream, data));
    }

    #[test]
    fn a_stream_that_does_not_inflate_to_the_input_is_told() {
        let data = noise(7, MAX_INPUT, 16);
        let mut stream = Vec::new();
        zlib_fixed(&data, &mut stream);
        let mut other = data.clone();
        other[100] ^= 1;
        assert!(!inflates_to(&stream, &other), "a byte differs");
        assert!(
            !inflates_to(&stream, &data[..MAX_INPUT - 1]),
            "one byte more in the stream"
        );
        let mut broken = stream.clone();
        let at = broken.len() / 2;
        broken[at] ^= 0x10;
        assert!(!inflates_to(&broken, &data), "a bit of the stream flipped");
        broken = stream.clone();
        let last = broken.len() - 1;
        broken[last] ^= 1;
        assert!(!inflates_to(&broken, &data), "the Adler-32 is wrong");
    }

    /// The delta tests' reproducible bytes, each taken modulo `alphabet` (few letters make
    /// many matches).
    fn noise(seed: u64, len: usize, alphabet: u8) -> Vec<u8> {
        crate::delta::tests::noise(seed, len)
            .into_iter()
            .map(|b| b % alphabet)
            .collect()
    }

    #[test]
    fn every_length_up_to_the_largest_comes_back_whole() {
        for len in 0..=MAX_INPUT {
            round_trip(&noise(len as u64, len, 255));
            round_trip(&noise(len as u64, len, 3)); // many short and long matches
            round_trip(&vec![b'a'; len]); // one match after another, each as long as can be
        }
    }

    #[test]
    fn matches_at_every_distance_and_length_come_back_whole() {
        // A stretch repeated at each distance, with lengths across every length symbol.
        for dist in [
            1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 64, 65, 127, 129, 255, 257, 511, 513, 700,
        ] {
            for len in [
                4, 5, 10, 11, 12, 13, 18, 19, 34, 35, 66, 67, 130, 131, 226, 227, 257, 258,
            ] {
                let head = noise((dist * 1000 + len) as u64, dist, 200);
                let mut data: Vec<u8> = head.iter().cycle().take(dist + len).copied().collect();
                data.push(255);
                data.truncate(MAX_INPUT);
                round_trip(&data);
            }
        }
    }

    #[test]
    fn text_comes_back_whole_and_compressed() {
        let text = include_bytes!("object.rs");
        let mut stored = 0;
        let mut deflated = 0;
        for start in (0..text.len() - MAX_INPUT).step_by(97) {
            let piece = &text[start..start + MAX_INPUT];
            round_trip(piece);
            let mut stream = Vec::new();
            zlib_fixed(piece, &mut stream);
            stored += piece.len();
            deflated += stream.len();
        }
        // Source text in the fixed code takes well under three quarters of its size.
        assert!(deflated * 4 < stored * 3, "{deflated} of {stored}");
    }

    #[test]
    fn the_adler32_is_zlibs() {
        for len in [0, 1, 100, MAX_INPUT] {
            let data = vec![0xffu8; len];
            assert_eq!(adler32(&data), libdeflater::adler32(&data));
        }
    }
}
