//! Deflate of larger objects by ISA-L's igzip at its level 1, through its C interface.
//!
//! On the Rust docs' pages of 256 KiB and more igzip takes 0.45× libdeflate's time at its
//! fastest level, for streams about 10% longer; on 12–32 KiB, 0.7×.
//! Below 16 KiB libdeflate is as fast or faster, so objects that small are left to it. Each
//! thread keeps one stream and its level buffer, set up again for every object
//! (`isal_deflate_stateless_init`), so no object pays for allocating them.
#![allow(unsafe_code)]

use std::cell::RefCell;

use isal_sys::igzip_lib as isal;

/// The smallest object igzip deflates.
pub(crate) const MIN_INPUT: usize = 16 << 10;

// The stream (82 KB with these bindings) is made on the stack before it is boxed.
const _: () = assert!(std::mem::size_of::<isal::isal_zstream>() < 256 << 10);

/// One thread's stream and the buffer level 1 keeps its hash table in.
struct Igzip {
    stream: Box<isal::isal_zstream>,
    level_buf: Vec<u8>,
}

thread_local! {
    static IGZIP: RefCell<Option<Igzip>> = const { RefCell::new(None) };
}

impl Igzip {
    fn new() -> Igzip {
        // SAFETY: `isal_zstream` is a C struct of integers, arrays of integers and raw pointers,
        // for which all zero bytes is a valid value; `isal_deflate_stateless_init` then sets it
        // up before every use.
        let stream = Box::new(unsafe { std::mem::zeroed::<isal::isal_zstream>() });
        Igzip {
            stream,
            level_buf: vec![0u8; isal::ISAL_DEF_LVL1_DEFAULT as usize],
        }
    }
}

/// Writes the zlib stream of `data` into `out` and returns its length; `None` when `out` is too
/// short for it (or `data` or `out` is 4 GiB or more), and then what is in `out` means nothing.
pub(crate) fn zlib(data: &[u8], out: &mut [u8]) -> Option<usize> {
    let avail_in = u32::try_from(data.len()).ok()?;
    let avail_out = u32::try_from(out.len()).ok()?;
    IGZIP.with(|cell| {
        let mut slot = cell.borrow_mut();
        let igzip = slot.get_or_insert_with(Igzip::new);
        let stream: &mut isal::isal_zstream = &mut igzip.stream;
        // SAFETY: `stream` is a valid, exclusively borrowed `isal_zstream`.
        unsafe { isal::isal_deflate_stateless_init(stream) };
        stream.level = 1;
        stream.level_buf = igzip.level_buf.as_mut_ptr();
        stream.level_buf_size = igzip.level_buf.len() as u32;
        stream.gzip_flag = isal::IGZIP_ZLIB as u16;
        stream.end_of_stream = 1;
        stream.flush = isal::NO_FLUSH as u16;
        // igzip only reads from `next_in` (the C interface has no `const`).
        stream.next_in = data.as_ptr().cast_mut();
        stream.avail_in = avail_in;
        stream.next_out = out.as_mut_ptr();
        stream.avail_out = avail_out;
        // SAFETY: the stream was set up for a stateless deflate just above; `next_in` and
        // `next_out` point at `avail_in` readable and `avail_out` writable bytes, and the level
        // buffer at `level_buf_size` bytes, all of which outlive the call, which keeps none of
        // these pointers after it returns.
        let ret = unsafe { isal::isal_deflate_stateless(stream) };
        let written = stream.total_out as usize;
        // Leave no pointer to this call's buffers in the thread's stream.
        stream.next_in = std::ptr::null_mut();
        stream.next_out = std::ptr::null_mut();
        (ret == isal::COMP_OK as i32 && stream.avail_in == 0 && written <= out.len())
            .then_some(written)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn text(len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 64);
        let mut i = 0u64;
        while out.len() < len {
            out.extend_from_slice(
                format!(
                    "<p class=\"item\">entry {i} of a page, {}</p>\n",
                    i * 7919 % 1013
                )
                .as_bytes(),
            );
            i += 1;
        }
        out.truncate(len);
        out
    }

    fn read_back(stream: &[u8], len: usize) -> (Vec<u8>, Vec<u8>) {
        let mut by_zlib = Vec::new();
        flate2::read::ZlibDecoder::new(stream)
            .read_to_end(&mut by_zlib)
            .unwrap();
        let mut by_libdeflate = vec![0u8; len];
        let n = libdeflater::Decompressor::new()
            .zlib_decompress(stream, &mut by_libdeflate)
            .unwrap();
        by_libdeflate.truncate(n);
        (by_zlib, by_libdeflate)
    }

    /// Text, noise and zeros of sizes around igzip's blocks and libdeflate's bound read back
    /// whole through zlib and libdeflate (the zlib header and Adler-32 included), one stream
    /// after another on the same thread.
    #[test]
    fn what_igzip_writes_reads_back_with_zlib_and_libdeflate() {
        let noise = crate::delta::tests::noise(7, 3 << 20);
        let mut compressor = libdeflater::Compressor::new(libdeflater::CompressionLvl::fastest());
        for len in [MIN_INPUT, 65_535, 65_536, 65_537, 300_000, 1 << 20, 3 << 20] {
            for (kind, data) in [
                ("text", text(len)),
                ("noise", noise[..len].to_vec()),
                ("zeros", vec![0u8; len]),
            ] {
                let mut out = vec![0u8; compressor.zlib_compress_bound(len)];
                let n = zlib(&data, &mut out).unwrap_or_else(|| panic!("{kind} of {len}"));
                let (by_zlib, by_libdeflate) = read_back(&out[..n], len);
                assert!(by_zlib == data, "{kind} of {len} through zlib");
                assert!(by_libdeflate == data, "{kind} of {len} through libdeflate");
                if kind != "noise" {
                    assert!(n < len / 4, "{kind} of {len} deflated to {n}");
                }
            }
        }
    }

    /// An output too short for the stream is refused, and the next object is deflated as if
    /// nothing had happened.
    #[test]
    fn an_output_too_short_is_refused_and_the_next_object_is_whole() {
        let noise = crate::delta::tests::noise(11, 200_000);
        let mut short = vec![0u8; 100_000];
        assert_eq!(zlib(&noise, &mut short), None);
        let data = text(200_000);
        let mut out = vec![0u8; 300_000];
        let n = zlib(&data, &mut out).unwrap();
        assert_eq!(read_back(&out[..n], data.len()).0, data);
    }
}
