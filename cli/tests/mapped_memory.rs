//! A `.npy` dataset larger than the memory an epoch may hold: one epoch over a 4 GiB `u8`
//! file, memory-mapped, peaks under 1 GiB of resident memory. The file is written to a
//! temporary folder and removed; without 5 GiB of free disk the test says so and skips.

use std::io::Write;
use std::path::Path;

use augflow::iterators::Images;
use augflow::{ImageDataGenerator, Sequence};
use augflow_cli::memory::{reset_peak, status_bytes};

const SIDE: usize = 256;
const SAMPLE: usize = SIDE * SIDE * 3;
/// Enough samples for a file of at least 4 GiB.
const N: usize = (4_usize << 30).div_ceil(SAMPLE);
const BATCH: usize = 32;
const LIMIT: u64 = 1 << 30;

/// Free bytes on the file system holding `dir`, from `df`; `None` when `df` cannot tell.
fn free_bytes(dir: &Path) -> Option<u64> {
    let out = std::process::Command::new("df")
        .arg("-Pk")
        .arg(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let available = text.lines().nth(1)?.split_whitespace().nth(3)?;
    Some(available.parse::<u64>().ok()? * 1024)
}

/// Writes an `(N, SIDE, SIDE, 3)` `u8` `.npy` whose sample `n` holds the value `n % 251`
/// everywhere, a chunk at a time (the file is never in memory whole).
fn write_dataset(path: &Path) -> std::io::Result<()> {
    let mut dict =
        format!("{{'descr': '|u1', 'fortran_order': False, 'shape': ({N}, {SIDE}, {SIDE}, 3), }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all(b"\x93NUMPY\x01\x00")?;
    file.write_all(&(dict.len() as u16).to_le_bytes())?;
    file.write_all(dict.as_bytes())?;
    let mut sample = vec![0_u8; SAMPLE];
    for n in 0..N {
        sample.fill((n % 251) as u8);
        file.write_all(&sample)?;
    }
    file.into_inner()?.sync_all()
}

#[test]
fn one_epoch_over_a_4_gib_mapped_npy_peaks_under_1_gib() {
    if status_bytes("VmHWM:").is_none() {
        eprintln!("skipped: /proc/self/status is not available on this system");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let need = (N * SAMPLE) as u64 + (1 << 30);
    match free_bytes(dir.path()) {
        Some(free) if free >= need => {}
        free => {
            eprintln!(
                "skipped: the test writes a {} byte .npy to {} and needs {need} bytes free there; df reports {free:?}",
                N * SAMPLE,
                dir.path().display()
            );
            return;
        }
    }
    let path = dir.path().join("large.npy");
    write_dataset(&path).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() >= 4 << 30);

    let datagen = ImageDataGenerator::builder().build().unwrap();
    // Warm up first: resident memory also counts code run for the first time and the pool's
    // thread stacks, which are not the iterator's holdings.
    let warm = datagen.flow(Images::<u8>::open_npy(&path).unwrap());
    let warm = warm.batch_size(BATCH).seed(1).build().unwrap();
    rayon::broadcast(|_| drop(warm.get(0).unwrap()));
    drop(warm);
    reset_peak();
    let before = status_bytes("VmRSS:").unwrap();

    let x = Images::<u8>::open_npy(&path).unwrap();
    let it = datagen.flow(x).batch_size(BATCH).seed(7).build().unwrap();
    let mut counts = vec![0_u32; 251];
    for batch in it.epoch() {
        let batch = batch.unwrap();
        for sample in batch.x.outer_iter() {
            counts[sample[[SIDE / 2, SIDE / 2, 1]] as usize] += 1;
        }
    }
    let peak = status_bytes("VmHWM:").unwrap();
    // Every sample was served once: sample n shows n % 251.
    let expected: Vec<u32> = (0..251)
        .map(|v| (0..N).filter(|n| n % 251 == v).count() as u32)
        .collect();
    assert_eq!(counts, expected);
    let growth = peak.saturating_sub(before);
    eprintln!(
        "one epoch over {} bytes: resident memory grew by {growth} bytes",
        N * SAMPLE
    );
    assert!(
        growth < LIMIT,
        "resident memory grew by {growth} bytes over one epoch of a {} byte file; the bound is {LIMIT}",
        N * SAMPLE
    );
}
