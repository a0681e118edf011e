//! The standard workload's throughput (see [`augflow::bench`]): 512 random u8 images
//! 224×224×3 → f32 batches of 32; rotation ±20°, width/height shift ±10 %, shear ±10°,
//! zoom ±10 %, horizontal flip, nearest fill, ×1/255 — through `NumpyArrayIterator`, at 1 and
//! 2 threads, beside the copy floor (u8 → f32 ×1/255 of the same batches) measured in the
//! same process. `augflow bench` runs the same code.
//!
//! ```sh
//! cargo run --release --example bench                 # 224×224, 512 images
//! cargo run --release --example bench -- --small     # 64×64
//! cargo run --release --example bench -- --size 128 --count 256 --repeats 5 --threads 1,2,4 --json
//! ```

use augflow::bench::{BenchOptions, run};

fn parse() -> Result<(BenchOptions, bool), String> {
    let mut o = BenchOptions::default();
    let mut json = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Result<usize, String> {
            let v = args.next().ok_or(format!("{name} needs a value"))?;
            v.parse().map_err(|e| format!("{name} {v:?}: {e}"))
        };
        match a.as_str() {
            "--small" => o.size = 64,
            "--size" => o.size = num("--size")?,
            "--count" => o.count = num("--count")?,
            "--batch" => o.batch = num("--batch")?,
            "--repeats" => o.repeats = num("--repeats")?,
            "--threads" => {
                let v = args.next().ok_or("--threads needs a value")?;
                o.threads = v
                    .split(',')
                    .map(|t| {
                        t.trim()
                            .parse()
                            .map_err(|e| format!("--threads {v:?}: {e}"))
                    })
                    .collect::<Result<_, _>>()?
            }
            "--json" => json = true,
            "--help" | "-h" => {
                println!(
                    "bench [--small] [--size N] [--count N] [--batch N] [--repeats N] [--threads 1,2] [--json]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    Ok((o, json))
}

fn main() {
    let result = parse().and_then(|(o, json)| {
        let report = run(&o).map_err(|e| e.to_string())?;
        if json {
            println!("{}", report.to_json());
        } else {
            print!("{}", report.to_table());
        }
        Ok(())
    });
    if let Err(e) = result {
        eprintln!("bench: {e}");
        std::process::exit(2);
    }
}
