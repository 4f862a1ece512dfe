//! Compares the chunk store's compression levels on the chunks a folder would be stored as:
//! time on one core (best of three) and compressed size.
//!
//! `cargo run --release -p kura-chunkstore --example zstd_params -- DIR [LEVEL...]`
//! (levels 1 2 3 4 by default; 3 is Kura's own, see `kura_chunkstore::chunk_compressor`).
use std::path::PathBuf;
use std::time::Instant;

use kura_chunkstore::{
    chunk_compressor, Chunker, DEFAULT_AVG_CHUNK, DEFAULT_MAX_CHUNK, DEFAULT_MIN_CHUNK,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: zstd_params DIR [LEVEL...]"));
    let mut levels: Vec<i32> = args
        .map(|a| a.parse().expect("a level is a number"))
        .collect();
    if levels.is_empty() {
        levels = vec![1, 2, 3, 4];
    }
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable folder") {
            let e = e.expect("readable folder");
            let t = e.file_type().expect("readable entry");
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                let f = std::fs::File::open(e.path()).expect("readable file");
                let mut c =
                    Chunker::new(f, DEFAULT_MIN_CHUNK, DEFAULT_AVG_CHUNK, DEFAULT_MAX_CHUNK);
                while let Some(chunk) = c.next_chunk().expect("readable file") {
                    chunks.push(chunk.to_vec());
                }
            }
        }
    }
    let total: usize = chunks.iter().map(Vec::len).sum();
    println!("{} chunks, {:.1} MB", chunks.len(), total as f64 / 1e6);
    for level in levels {
        let mut c = chunk_compressor(level).expect("a valid level");
        let mut best = f64::MAX;
        let mut size = 0;
        for _ in 0..3 {
            let t = Instant::now();
            size = chunks
                .iter()
                .map(|ch| c.compress(ch).expect("zstd").len())
                .sum::<usize>();
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "level {level:2}  {best:.2} s  {:.0} MB/s  {:.1} MB",
            total as f64 / 1e6 / best,
            size as f64 / 1e6
        );
    }
}
