//! `augflow bench`: the standard workload's throughput beside the copy floor.

use augflow_cli::workload::{BenchOptions, run as run_bench};
use clap::Args;

use super::CliResult;

/// Arguments of `augflow bench`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Image side in pixels
    #[arg(long, default_value_t = 224, conflicts_with = "small")]
    pub size: usize,
    /// Use 64x64 images
    #[arg(long)]
    pub small: bool,
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
    /// Print one line of JSON instead of the table
    #[arg(long)]
    pub json: bool,
}

/// Runs `bench`.
pub fn run(a: BenchArgs) -> CliResult {
    let opts = BenchOptions {
        size: if a.small { 64 } else { a.size },
        count: a.count,
        batch: a.batch,
        repeats: a.repeats,
        threads: a.threads,
    };
    let report = run_bench(&opts)?;
    if a.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}
