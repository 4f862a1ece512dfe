//! Measures how fast objects are hashed and deflated, on the files of a folder read into memory
//! first: `cargo run --release -p kura-gitpack --example encode_speed -- DIR [LEVEL...]`.

use std::time::Instant;

use kura_gitpack::{object_id, EncodedObject, ObjectKind};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).expect("usage: encode_speed DIR [LEVEL...]");
    let levels: Vec<u32> = args[2..]
        .iter()
        .map(|l| l.parse().expect("a zlib level"))
        .collect();
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                files.push(std::fs::read(e.path()).unwrap());
            }
        }
    }
    let bytes: usize = files.iter().map(Vec::len).sum();
    println!("{} files, {} MB", files.len(), bytes >> 20);
    let t = Instant::now();
    let mut x = 0u8;
    for f in &files {
        x ^= object_id(ObjectKind::Blob, f)[0];
    }
    println!("sha-1 only: {:.2} s ({x})", t.elapsed().as_secs_f64());
    for level in levels {
        let t = Instant::now();
        let mut out = 0usize;
        for f in &files {
            out += EncodedObject::encode(ObjectKind::Blob, f, level).deflated_len();
        }
        println!(
            "level {level}: {:.2} s, {} MB out (one thread)",
            t.elapsed().as_secs_f64(),
            out >> 20
        );
    }
}
