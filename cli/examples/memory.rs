//! Memory while iterating: 512 random `u8` images 224×224×3 (~77 MB) through
//! `NumpyArrayIterator` with the standard augmentation, batches of 32 `f32` built and dropped
//! one at a time for one epoch. Prints the peak resident memory (`VmHWM` from
//! `/proc/self/status`, Linux), the dataset size and their ratio: the iterator holds the
//! `u8` dataset as it is, never a converted copy, plus the batch being built.
//!
//! ```sh
//! cargo run --release --example memory
//! ```

use augflow_cli::workload::{random_images, standard_generator};

const COUNT: usize = 512;
const SIDE: usize = 224;
const BATCH: usize = 32;

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(start) = status_bytes("VmRSS:") else {
        return Err("/proc/self/status is not available (this example needs Linux)".into());
    };
    // Start the peak at the current size (Linux >= 4.0), so the figure is this run's alone.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let x = random_images(COUNT, SIDE);
    let dataset = x.len() as u64;
    let batch_bytes = (BATCH * SIDE * SIDE * 3 * size_of::<f32>()) as u64;
    let it = standard_generator()?
        .flow(x)
        .batch_size(BATCH)
        .seed(1)
        .build()?;
    let mut images = 0;
    for batch in it.epoch() {
        images += batch?.len(); // dropped here
    }
    let peak = status_bytes("VmHWM:").ok_or("no VmHWM in /proc/self/status")?;
    println!(
        "{images} u8 images {SIDE}x{SIDE}x3 in batches of {BATCH} f32 on {} rayon threads",
        rayon::current_num_threads()
    );
    println!("dataset:            {:8.1} MB", mb(dataset));
    println!("one f32 batch:      {:8.1} MB", mb(batch_bytes));
    println!(
        "resident at start:  {:8.1} MB{}",
        mb(start),
        if reset {
            ""
        } else {
            " (peak not reset: the peak below may predate the run)"
        }
    );
    println!(
        "peak resident:      {:8.1} MB = {:.2} x the dataset",
        mb(peak),
        peak as f64 / dataset as f64
    );
    let growth = peak.saturating_sub(start);
    println!(
        "peak growth:        {:8.1} MB = dataset + {:.2} batches",
        mb(growth),
        (growth as f64 - dataset as f64) / batch_bytes as f64
    );
    Ok(())
}
