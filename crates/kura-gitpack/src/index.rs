//! Building the pack index (.idx version 2).

use sha1::{Digest, Sha1};

use crate::Oid;

/// Where one object sits in the pack, as the index records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub oid: Oid,
    /// Byte offset of the entry header in the .pack file.
    pub offset: u64,
    /// CRC32 of the packed entry (header and zlib stream).
    pub crc32: u32,
}

const IDX_MAGIC: [u8; 4] = *b"\xfftOc";
const IDX_VERSION: u32 = 2;
/// Offsets from here up live in the 64-bit table; the 32-bit slot then holds its index, MSB set.
const LARGE_OFFSET: u64 = 0x8000_0000;

/// Serializes a v2 index for `entries` (sorted here by oid; oids must be unique):
/// header, 256-entry fanout, oids, CRC32s, 32-bit offsets, 64-bit offsets, the pack's checksum,
/// and the SHA-1 of everything before it.
pub(crate) fn build_index(entries: &mut [IndexEntry], pack_checksum: &Oid) -> Vec<u8> {
    entries.sort_unstable_by_key(|e| e.oid);
    debug_assert!(entries.windows(2).all(|w| w[0].oid != w[1].oid));

    let large = entries.iter().filter(|e| e.offset >= LARGE_OFFSET).count();
    let mut out =
        Vec::with_capacity(8 + 256 * 4 + entries.len() * (20 + 4 + 4) + large * 8 + 2 * 20);
    out.extend_from_slice(&IDX_MAGIC);
    out.extend_from_slice(&IDX_VERSION.to_be_bytes());

    let mut fanout = [0u32; 256];
    for entry in entries.iter() {
        fanout[entry.oid[0] as usize] += 1;
    }
    let mut cumulative = 0u32;
    for count in fanout {
        cumulative += count;
        out.extend_from_slice(&cumulative.to_be_bytes());
    }

    for entry in entries.iter() {
        out.extend_from_slice(&entry.oid);
    }
    for entry in entries.iter() {
        out.extend_from_slice(&entry.crc32.to_be_bytes());
    }
    let mut large_offsets = Vec::with_capacity(large);
    for entry in entries.iter() {
        let slot = if entry.offset < LARGE_OFFSET {
            entry.offset as u32
        } else {
            large_offsets.push(entry.offset);
            (LARGE_OFFSET as u32) | (large_offsets.len() as u32 - 1)
        };
        out.extend_from_slice(&slot.to_be_bytes());
    }
    for offset in large_offsets {
        out.extend_from_slice(&offset.to_be_bytes());
    }

    out.extend_from_slice(pack_checksum);
    let checksum: Oid = Sha1::digest(&out).into();
    out.extend_from_slice(&checksum);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    fn oid(first: u8, last: u8) -> Oid {
        let mut oid = [0x11; 20];
        oid[0] = first;
        oid[19] = last;
        oid
    }

    /// Fake offsets past 2 GiB and 4 GiB exercise the 64-bit table without writing a huge pack.
    fn entries_with_large_offsets() -> Vec<IndexEntry> {
        vec![
            IndexEntry {
                oid: oid(0xff, 1),
                offset: 12,
                crc32: 0xdead_beef,
            },
            IndexEntry {
                oid: oid(0x00, 2),
                offset: 5 * (1 << 30),
                crc32: 1,
            },
            IndexEntry {
                oid: oid(0x80, 3),
                offset: 0x7fff_ffff,
                crc32: 2,
            },
            IndexEntry {
                oid: oid(0x00, 1),
                offset: 0x8000_0000,
                crc32: 3,
            },
            IndexEntry {
                oid: oid(0x7f, 4),
                offset: u64::from(u32::MAX) + 1,
                crc32: 4,
            },
        ]
    }

    #[test]
    fn large_offsets_go_to_the_64_bit_table() {
        let mut entries = entries_with_large_offsets();
        let idx = build_index(&mut entries, &[0xaa; 20]);
        let n = entries.len();
        let be32 = |at: usize| u32::from_be_bytes(idx[at..at + 4].try_into().unwrap());
        let be64 = |at: usize| u64::from_be_bytes(idx[at..at + 8].try_into().unwrap());

        assert_eq!(&idx[..4], b"\xfftOc");
        assert_eq!(be32(4), 2);
        let fanout = |byte: usize| be32(8 + byte * 4);
        assert_eq!(
            (
                fanout(0),
                fanout(0x7e),
                fanout(0x7f),
                fanout(0x80),
                fanout(0xff)
            ),
            (2, 2, 3, 4, 5)
        );

        let oids_at = 8 + 1024;
        let sorted: Vec<Oid> = (0..n)
            .map(|i| idx[oids_at + i * 20..][..20].try_into().unwrap())
            .collect();
        assert_eq!(
            sorted,
            [
                oid(0, 1),
                oid(0, 2),
                oid(0x7f, 4),
                oid(0x80, 3),
                oid(0xff, 1)
            ]
        );

        let crcs_at = oids_at + n * 20;
        assert_eq!(
            (0..n).map(|i| be32(crcs_at + i * 4)).collect::<Vec<_>>(),
            [3, 1, 4, 2, 0xdead_beef]
        );

        let offsets_at = crcs_at + n * 4;
        let slots: Vec<u32> = (0..n).map(|i| be32(offsets_at + i * 4)).collect();
        assert_eq!(
            slots,
            [0x8000_0000, 0x8000_0001, 0x8000_0002, 0x7fff_ffff, 12]
        );
        let large_at = offsets_at + n * 4;
        assert_eq!(be64(large_at), 0x8000_0000);
        assert_eq!(be64(large_at + 8), 5 << 30);
        assert_eq!(be64(large_at + 16), 1 << 32);

        let trailer_at = large_at + 3 * 8;
        assert_eq!(&idx[trailer_at..trailer_at + 20], &[0xaa; 20]);
        let expected: Oid = Sha1::digest(&idx[..trailer_at + 20]).into();
        assert_eq!(&idx[trailer_at + 20..], &expected);
        assert_eq!(idx.len(), trailer_at + 40);
    }

    /// `git show-index` reads an .idx on stdin and prints "<offset> <oid> (<crc>)" per object.
    #[test]
    fn git_reads_the_64_bit_offsets() {
        let mut entries = entries_with_large_offsets();
        let idx = build_index(&mut entries, &[0xaa; 20]);
        let mut child = Command::new("git")
            .arg("show-index")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("git must be installed to run the tests");
        child.stdin.take().unwrap().write_all(&idx).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut listed: Vec<String> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        listed.sort();
        let mut expected: Vec<String> = entries
            .iter()
            .map(|e| format!("{} {} ({:08x})", e.offset, hex::encode(e.oid), e.crc32))
            .collect();
        expected.sort();
        assert_eq!(listed, expected);
    }
}
