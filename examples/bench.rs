//! The standard workload's throughput: 512 random u8 images 224×224×3 → f32 batches of 32;
//! rotation ±20°, width/height shift ±10 %, shear ±10°, zoom ±10 %, horizontal flip, nearest
//! fill, ×1/255 — through `NumpyArrayIterator`, at 1 and 2 threads, beside the copy floor
//! (u8 → f32 ×1/255 of the same batches) measured in the same process.
//!
//! ```sh
//! cargo run --release --example bench                 # 224×224, 512 images
//! cargo run --release --example bench -- --small     # 64×64
//! cargo run --release --example bench -- --size 128 --count 256 --repeats 5 --threads 1,2,4 --json
//! ```

use std::time::Instant;

use augflow::{DynArray, FillMode, ImageDataGenerator, Sequence};
use ndarray::{Array4, Axis};
use rayon::prelude::*;

struct Opts {
    size: usize,
    count: usize,
    batch: usize,
    repeats: usize,
    threads: Vec<usize>,
    json: bool,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        size: 224,
        count: 512,
        batch: 32,
        repeats: 5,
        threads: vec![1, 2],
        json: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--small" => o.size = 64,
            "--size" => o.size = val("--size")?.parse().map_err(|e| format!("--size: {e}"))?,
            "--count" => {
                o.count = val("--count")?
                    .parse()
                    .map_err(|e| format!("--count: {e}"))?
            }
            "--batch" => {
                o.batch = val("--batch")?
                    .parse()
                    .map_err(|e| format!("--batch: {e}"))?
            }
            "--repeats" => {
                o.repeats = val("--repeats")?
                    .parse()
                    .map_err(|e| format!("--repeats: {e}"))?
            }
            "--threads" => {
                o.threads = val("--threads")?
                    .split(',')
                    .map(|t| t.parse().map_err(|e| format!("--threads: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--json" => o.json = true,
            "--help" | "-h" => {
                println!(
                    "bench [--small] [--size N] [--count N] [--batch N] [--repeats N] [--threads 1,2] [--json]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    if o.size == 0 || o.count == 0 || o.batch == 0 || o.repeats == 0 || o.threads.contains(&0) {
        return Err("sizes, counts, repeats and threads must be >= 1".into());
    }
    Ok(o)
}

/// Median images/s of `repeats` runs of `f` over `count` images.
fn rate(count: usize, repeats: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let mut v: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            f();
            count as f64 / t.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::exit(2);
        }
    };
    // Random u8 images from a fixed-seed xorshift (no extra dependency).
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let x = Array4::from_shape_simple_fn((o.count, o.size, o.size, 3), || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 56) as u8
    });
    let datagen = ImageDataGenerator::builder()
        .rotation_range(20.0)
        .width_shift_range(0.1)
        .height_shift_range(0.1)
        .shear_range(10.0)
        .zoom_range(0.1)
        .horizontal_flip(true)
        .fill_mode(FillMode::Nearest)
        .rescale(1.0 / 255.0)
        .build()
        .expect("valid configuration");
    let it = datagen
        .flow(x.clone(), None::<DynArray>)
        .batch_size(o.batch)
        .seed(1)
        .build()
        .expect("valid flow");

    let mut rows = Vec::new();
    for &t in &o.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .expect("pool");
        let (floor, aug) = pool.install(|| {
            let floor = rate(o.count, o.repeats, || {
                for chunk in x.axis_chunks_iter(Axis(0), o.batch) {
                    let mut out = Array4::<f32>::zeros(chunk.raw_dim());
                    out.axis_iter_mut(Axis(0))
                        .into_par_iter()
                        .zip(chunk.axis_iter(Axis(0)).into_par_iter())
                        .for_each(|(mut d, s)| {
                            d.zip_mut_with(&s, |d, &s| *d = s as f32 * (1.0 / 255.0))
                        });
                    std::hint::black_box(&out);
                }
            });
            let aug = rate(o.count, o.repeats, || {
                for i in 0..it.len() {
                    std::hint::black_box(it.get(i).expect("batch"));
                }
            });
            (floor, aug)
        });
        rows.push((t, floor, aug));
    }
    if o.json {
        let items: Vec<String> = rows
            .iter()
            .map(|(t, f, a)| {
                format!("{{\"threads\": {t}, \"floor\": {f:.1}, \"augflow\": {a:.1}}}")
            })
            .collect();
        println!(
            "{{\"size\": {}, \"count\": {}, \"rows\": [{}]}}",
            o.size,
            o.count,
            items.join(", ")
        );
        return;
    }
    println!(
        "standard workload: {} u8 images {}x{}x3 -> f32 batches of {}, median of {} runs",
        o.count, o.size, o.size, o.batch, o.repeats
    );
    println!(
        "{:>7} | {:>12} | {:>12} | {:>14}",
        "threads", "floor img/s", "augflow img/s", "floor/augflow"
    );
    for (t, f, a) in &rows {
        println!("{t:>7} | {f:>12.0} | {a:>12.0} | {:>14.2}", f / a);
    }
    if let (Some(one), Some(two)) = (
        rows.iter().find(|r| r.0 == 1),
        rows.iter().find(|r| r.0 == 2),
    ) {
        println!("scaling 1 -> 2 threads: {:.2}x", two.2 / one.2);
    }
}
