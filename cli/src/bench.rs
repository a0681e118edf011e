//! `augflow bench`: the standard workload's throughput beside the copy floor.

use std::io::Write;
use std::path::{Path, PathBuf};

use augflow_cli::files_workload;
use augflow_cli::workload::{BenchOptions, run as run_bench};
use clap::Args;

use super::{CliError, CliResult};

/// The measurement flags `bench` and `bench-recipe` share: epoch size, batch size, timed
/// runs and thread counts.
#[derive(Args, Debug, Clone)]
pub struct Timing {
    /// Number of images per epoch
    #[arg(long, default_value_t = 512)]
    pub count: usize,
    /// Images per batch
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Timed runs per measurement (the median is reported)
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Thread counts, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads: Vec<usize>,
}

/// Arguments of `augflow bench`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Image side in pixels
    #[arg(long, default_value_t = 224, conflicts_with = "small")]
    pub size: usize,
    /// Use 64x64 images
    #[arg(long)]
    pub small: bool,
    #[command(flatten)]
    pub timing: Timing,
    /// Print one line of JSON instead of the table
    #[arg(long)]
    pub json: bool,
    /// Measure the file workload instead: `flow_from_directory` over this folder of class
    /// folders (as peer-bench/files' gen_data.py writes), and decode-only rows per JPEG decoder
    #[arg(long, value_name = "DIR")]
    pub files: Option<PathBuf>,
    /// With --files: also append each row to this file as JSON lines (summarize.py's format)
    #[arg(long, value_name = "FILE", requires = "files")]
    pub jsonl: Option<PathBuf>,
}

/// Runs `bench`.
pub fn run(a: BenchArgs) -> CliResult {
    if let Some(dir) = &a.files {
        return run_files(dir, a.jsonl.as_deref(), a.timing.repeats, &a.timing.threads);
    }
    let opts = BenchOptions {
        size: if a.small { 64 } else { a.size },
        count: a.timing.count,
        batch: a.timing.batch,
        repeats: a.timing.repeats,
        threads: a.timing.threads,
    };
    let report = run_bench(&opts)?;
    if a.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}

/// Runs `bench --files DIR`: prints one line per row as it is measured, and appends it to
/// `jsonl` when given.
fn run_files(dir: &Path, jsonl: Option<&Path>, repeats: usize, threads: &[usize]) -> CliResult {
    let mut out = match jsonl {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| CliError(format!("cannot open {}: {e}", p.display())))?,
        ),
        None => None,
    };
    println!(
        "{:<18} | {:>7} | {:>9} | others' CPU",
        "row", "threads", "img/s"
    );
    let mut write_error = None;
    files_workload::run(dir, repeats, threads, |r| {
        println!(
            "{:<18} | {:>7} | {:>9.0} | {:>15.0} | {:.2} cores",
            r.row,
            r.threads,
            r.img_per_s(),
            r.img_per_cpu_s(),
            r.others_cores
        );
        if let Some(f) = out.as_mut()
            && let Err(e) = writeln!(f, "{}", r.to_json_line())
        {
            write_error.get_or_insert(e);
        }
    })?;
    match write_error {
        Some(e) => Err(CliError(format!("cannot write the JSON lines: {e}"))),
        None => Ok(()),
    }
}
