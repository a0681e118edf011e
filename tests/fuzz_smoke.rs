//! A short, fixed-count, deterministic run of the mutation fuzzer of `fuzz/` over each file
//! reader (`read_npy`, `read_npz`, the dataframe CSV reader, `load_img`): no input may panic,
//! yield an impossible `Ok`, allocate past the harness's cap (an abort) or hang (reported by
//! the harness's watchdog after a generous bound); no truncated or empty seed may read as
//! `Ok`. The long run is `cargo run --release --example fuzz`.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

use harness::Target;

#[global_allocator]
static ALLOC: harness::CappedAlloc = harness::CappedAlloc;

fn smoke(target: Target, iterations: u64) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let scratch = tempfile::tempdir().unwrap();
    let report = harness::run(target, &corpus, scratch.path(), iterations, 17, true)
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{report}");
    assert!(
        report.bugs.is_empty(),
        "{report}\n{}",
        report.bugs.join("\n")
    );
    assert_eq!(report.inputs, iterations);
    assert_eq!(report.oks + report.errors, iterations);
}

#[test]
fn mutated_npy_files_are_read_or_refused() {
    smoke(Target::Npy, 1500);
}

#[test]
fn mutated_npz_files_are_read_or_refused() {
    smoke(Target::Npz, 1000);
}

#[test]
fn mutated_csv_files_are_read_or_refused() {
    smoke(Target::Csv, 500);
}

#[test]
fn mutated_image_files_are_read_or_refused() {
    smoke(Target::Image, 600);
}
