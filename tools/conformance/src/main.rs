//! Replays a folder of golden conformance cases (the format of `shared/conformance`) against
//! augflow under `Geometry::Keras` and prints one line per failing case, and one per
//! documented deviation a passing case showed.
//!
//! ```sh
//! cargo run --release -p augflow-conformance -- ../shared/conformance
//! ```
//!
//! The public set is not part of the crate: it is the `shared/conformance` folder next to the
//! repository checkout (hence the default path), generated from Keras 2.9. Any folder in its
//! format can be passed, such as `tests/data/conformance-extra`.

use std::path::PathBuf;
use std::process::ExitCode;

use augflow::conformance::{Outcome, replay_dir};

fn main() -> ExitCode {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "../shared/conformance".into()),
    );
    let report = match replay_dir(&dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let verbose = std::env::var_os("VERBOSE").is_some();
    for r in &report.results {
        match &r.outcome {
            Outcome::Failed {
                max_abs_err,
                detail,
                ..
            } => println!("FAIL {} (max error {max_abs_err:.3e}): {detail}", r.id),
            Outcome::Skipped(why) if verbose => println!("skip {}: {why}", r.id),
            _ => {}
        }
        if let Some(note) = &r.note {
            println!("deviation {}: {note}", r.id);
        }
    }
    println!(
        "{} passed, {} failed, {} skipped",
        report.passed(),
        report.failed(),
        report.skipped()
    );
    if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
