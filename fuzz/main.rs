//! The long fuzz run by hand (see `fuzz/README.md`):
//!
//! ```text
//! cargo run --release --example fuzz -- --target npy --iterations 100000
//! cargo run --release --example fuzz -- --target all --seconds 60
//! cargo run --release --example fuzz -- --write-seeds fuzz/corpus
//! ```
//!
//! Prints, per target, the inputs tried and how many read as `Ok`, as errors, and as bugs
//! (panics, impossible results, truncated seeds accepted), then each bug's input in hex. An
//! input running longer than the harness's bound ends the run with its file saved; an
//! allocation over the harness's cap aborts the process, leaving the input in the scratch
//! folder printed at the start. Exits non-zero on any bug.

#[path = "harness.rs"]
mod harness;
#[path = "seeds.rs"]
mod seeds;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use harness::Target;

#[global_allocator]
static ALLOC: harness::CappedAlloc = harness::CappedAlloc;

struct Args {
    targets: Vec<Target>,
    iterations: u64,
    seconds: Option<f64>,
    seed: u64,
    corpus: PathBuf,
    write_seeds: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        targets: Target::ALL.to_vec(),
        iterations: 10_000,
        seconds: None,
        seed: 1,
        corpus: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus"),
        write_seeds: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--target" => {
                let v = value()?;
                args.targets = if v == "all" {
                    Target::ALL.to_vec()
                } else {
                    vec![Target::parse(&v).ok_or(format!(
                        "--target {v}: expected npy, npz, csv, image or all"
                    ))?]
                };
            }
            "--iterations" => {
                let v = value()?;
                args.iterations = v
                    .parse()
                    .map_err(|_| format!("--iterations {v}: expected a count"))?;
            }
            "--seconds" => {
                let v = value()?;
                args.seconds = Some(
                    v.parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s > 0.0)
                        .ok_or(format!("--seconds {v}: expected a positive number"))?,
                );
            }
            "--seed" => {
                let v = value()?;
                args.seed = v
                    .parse()
                    .map_err(|_| format!("--seed {v}: expected an integer"))?;
            }
            "--corpus" => args.corpus = PathBuf::from(value()?),
            "--write-seeds" => args.write_seeds = Some(PathBuf::from(value()?)),
            other => {
                return Err(format!(
                    "unknown argument {other}; use --target npy|npz|csv|image|all, --iterations N, \
                     --seconds S, --seed N, --corpus DIR, --write-seeds DIR"
                ));
            }
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &args.write_seeds {
        return match seeds::write_all(dir) {
            Ok(n) => {
                println!("wrote {n} seed files under {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let scratch = std::env::temp_dir().join(format!("augflow-fuzz-{}", std::process::id()));
    println!(
        "scratch folder (holds the input being read, if the process aborts): {}",
        scratch.display()
    );
    let mut bugs = 0;
    for target in args.targets {
        let report = match args.seconds {
            // Rounds of 1000 inputs, each with its own seed, until the time is spent.
            Some(s) => {
                let until = Instant::now() + Duration::from_secs_f64(s);
                let mut total = harness::Report {
                    target: target.name(),
                    ..Default::default()
                };
                let mut round = 0;
                while Instant::now() < until {
                    let r = match harness::run(
                        target,
                        &args.corpus,
                        &scratch.join(target.name()),
                        1000,
                        args.seed + round,
                        round == 0,
                    ) {
                        Ok(r) => r,
                        Err(e) => {
                            eprintln!("{e}");
                            return ExitCode::FAILURE;
                        }
                    };
                    total.inputs += r.inputs;
                    total.oks += r.oks;
                    total.errors += r.errors;
                    total.seconds += r.seconds;
                    total.bugs.extend(r.bugs);
                    round += 1;
                }
                total
            }
            None => match harness::run(
                target,
                &args.corpus,
                &scratch.join(target.name()),
                args.iterations,
                args.seed,
                true,
            ) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            },
        };
        println!("{report}");
        for bug in &report.bugs {
            println!("  bug: {bug}");
        }
        bugs += report.bugs.len();
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if bugs == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
