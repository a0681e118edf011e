//! The conformance runner replays any case of the documented format: the extra cases of
//! `tests/data/conformance-extra` (one per case class, reference behaviour from the spec), the
//! public set when it is present, and it fails cases whose behaviour does not match.

use std::path::{Path, PathBuf};

use augflow::conformance::{Outcome, Report, replay_dir};
use serde_json::Value;

fn extra() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance-extra")
}

fn failures(report: &Report) -> Vec<String> {
    report
        .results
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Passed))
        .map(|r| format!("{}: {:?}", r.id, r.outcome))
        .collect()
}

#[test]
fn every_extra_case_passes() {
    let report = replay_dir(&extra()).unwrap();
    assert_eq!(report.results.len(), 9);
    assert!(failures(&report).is_empty(), "{:#?}", failures(&report));
    let kinds: Vec<&str> = report.results.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "iterator_error").count(), 7);
}

#[test]
fn misaligned_keras_weights_are_reported_as_the_documented_deviation() {
    let report = replay_dir(&extra()).unwrap();
    for r in &report.results {
        if r.id == "iterator/validation_split_sample_weight" {
            let note = r.note.as_deref().expect("a deviation note");
            assert!(note.contains("training batch 0"), "{note}");
            assert!(
                note.contains("[1.0, 2.0]") && note.contains("[3.0, 4.0]"),
                "{note}"
            );
        } else {
            assert_eq!(r.note, None, "{}", r.id);
        }
    }
}

/// A copy of the extra folder whose `index.json` is changed by `edit`.
fn edited(edit: impl FnOnce(&mut Vec<Value>)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["inputs", "expected"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        for f in std::fs::read_dir(extra().join(sub)).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dir.path().join(sub).join(f.file_name())).unwrap();
        }
    }
    let text = std::fs::read_to_string(extra().join("index.json")).unwrap();
    let mut root: Value = serde_json::from_str(&text).unwrap();
    edit(root["cases"].as_array_mut().unwrap());
    std::fs::write(dir.path().join("index.json"), root.to_string()).unwrap();
    dir
}

fn outcome(report: &Report, id: &str) -> Outcome {
    let r = report.results.iter().find(|r| r.id == id).unwrap();
    r.outcome.clone()
}

#[test]
fn an_error_of_the_wrong_parameter_fails_the_case() {
    // Keras raised the sample_weight error; augflow's y-length error is not its mapping.
    let dir = edited(|cases| {
        let c = cases
            .iter_mut()
            .find(|c| c["id"] == "iterator_error/y_length")
            .unwrap();
        c["raises"]["message"] = "`x` (images tensor) and `sample_weight` (sample weights) should have the same length. Found: x.shape = (4, 2, 2, 1), sample_weight.shape = (3,)".into();
    });
    let report = replay_dir(dir.path()).unwrap();
    let Outcome::Failed { detail, .. } = outcome(&report, "iterator_error/y_length") else {
        panic!("passed");
    };
    assert!(detail.contains("naming `sample_weight`"), "{detail}");
    assert_eq!(report.failed(), 1);
}

#[test]
fn unmapped_errors_and_wrong_labels_fail() {
    let dir = edited(|cases| {
        let c = cases
            .iter_mut()
            .find(|c| c["id"] == "iterator/onehot_y_2d")
            .unwrap();
        c["batches"][1]["y"] = serde_json::json!([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        let c = cases
            .iter_mut()
            .find(|c| c["id"] == "iterator_error/x_rank_3")
            .unwrap();
        c["raises"]["message"] = "something Keras never says".into();
    });
    let report = replay_dir(dir.path()).unwrap();
    assert!(matches!(
        outcome(&report, "iterator/onehot_y_2d"),
        Outcome::Failed { .. }
    ));
    let Outcome::Failed { detail, .. } = outcome(&report, "iterator_error/x_rank_3") else {
        panic!("passed");
    };
    assert!(detail.contains("no augflow error is mapped"), "{detail}");
    assert_eq!(report.failed(), 2);
}

#[test]
fn a_rank_3_x_gives_augflows_rank_error() {
    let dir = edited(|cases| {
        // Claim it builds: the failure detail then shows the error augflow gave.
        let c = cases
            .iter_mut()
            .find(|c| c["id"] == "iterator_error/x_rank_3")
            .unwrap();
        c["kind"] = "iterator".into();
        c["len"] = 1.into();
    });
    let report = replay_dir(dir.path()).unwrap();
    let Outcome::Failed { detail, .. } = outcome(&report, "iterator_error/x_rank_3") else {
        panic!("passed");
    };
    assert!(
        detail.contains("`x` has shape [22, 3, 5]; expected rank 4 (N, H, W, C)"),
        "{detail}"
    );
}

#[test]
fn a_missing_folder_says_where_the_public_set_comes_from() {
    let err = replay_dir(Path::new("/nonexistent/conformance")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("/nonexistent/conformance"), "{msg}");
    assert!(msg.contains("../shared/conformance"), "{msg}");
}

#[test]
fn the_public_set_passes_when_present() {
    let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance");
    if !public.join("index.json").is_file() {
        return; // Not part of the crate: only checked where the shared folder is.
    }
    let report = replay_dir(&public).unwrap();
    assert!(failures(&report).is_empty(), "{:#?}", failures(&report));
    assert_eq!(report.passed(), report.results.len());
}
