//! Iterating a `u8` dataset holds the dataset as it is plus the batch being built: the peak
//! resident memory of one epoch stays below the dataset plus 4 batches.

use augflow::Sequence;
use augflow_cli::memory::{reset_peak, status_bytes};
use augflow_cli::workload::{random_images, standard_generator};

#[test]
fn one_epoch_peaks_below_the_dataset_plus_four_batches() {
    if std::fs::metadata("/proc/self/status").is_err() {
        eprintln!("skipped: /proc/self/status is not available on this system");
        return;
    }
    const N: usize = 64;
    const SIDE: usize = 64;
    // Small batches, so that holding the epoch's output (8 batches, 4x the dataset as f32)
    // or an f32 copy of the dataset would break the bound.
    const BATCH: usize = 8;
    let datagen = standard_generator().unwrap();
    // Warm up on one tiny image first: resident memory also counts the pages of code run for
    // the first time and rayon's thread stacks, which are not the iterator's holdings.
    let warm = datagen
        .flow(random_images(1, SIDE))
        .batch_size(1)
        .build()
        .unwrap();
    warm.epoch().for_each(|b| drop(b.unwrap()));
    // ... and on every pool thread, so each thread's stack has held the kernel's frames
    // (large in unoptimized builds, and probed page by page).
    rayon::broadcast(|_| drop(warm.get(0).unwrap()));
    reset_peak();
    let before = status_bytes("VmRSS:").expect("VmRSS in /proc/self/status");
    let x = random_images(N, SIDE);
    let dataset = x.len() as u64;
    let it = datagen.flow(x).batch_size(BATCH).seed(3).build().unwrap();
    let mut served = 0;
    for batch in it.epoch() {
        served += batch.unwrap().len();
    }
    let peak = status_bytes("VmHWM:").expect("VmHWM in /proc/self/status");
    assert_eq!(served, N);
    let batch = (BATCH * SIDE * SIDE * 3 * size_of::<f32>()) as u64;
    let growth = peak.saturating_sub(before);
    assert!(
        growth < dataset + 4 * batch,
        "peak grew by {growth} bytes; dataset {dataset}, one batch {batch}"
    );
}
