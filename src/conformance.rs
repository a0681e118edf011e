//! Replays a folder of golden cases made by the Keras reference (the format of
//! `shared/conformance/README.md`) against this library, under [`Geometry::Keras`].

use std::path::{Path, PathBuf};

use ndarray::{Array3, ArrayD, Axis, Ix3, Ix4};
use serde_json::Value;

use crate::DynArray;
use crate::generator::{FitOptions, GeneratorConfig, ImageDataGenerator};
use crate::iterators::{NumpyArrayIterator, Sequence, Subset};
use crate::{Error, Geometry, Kernel, Result, TransformParams};

/// How one case ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every element within tolerance.
    Passed,
    /// Outside tolerance.
    Failed {
        /// Largest `|got - expected|` over the elements off the fragile mask.
        max_abs_err: f64,
        /// Elements outside tolerance (all of them, on and off the mask).
        mismatches: usize,
        /// What went wrong, in words.
        detail: String,
    },
    /// Not replayed (a kind this version does not handle yet).
    Skipped(String),
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// The case's `id`.
    pub id: String,
    /// The case's `kind`.
    pub kind: String,
    /// How it ended.
    pub outcome: Outcome,
    /// A documented deviation from the reference that the case showed (for example Keras'
    /// misaligned `sample_weight` rows under a validation split, which augflow keeps aligned).
    pub note: Option<String>,
}

/// All results of one folder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// One entry per case, in the order of `index.json`.
    pub results: Vec<CaseResult>,
}

impl Report {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Passed))
    }
    /// Cases that failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }
    /// Cases that were skipped.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped(_)))
    }
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.outcome)).count()
    }
}

/// Per-case tolerance: `|got - expected| <= atol + rtol·|expected|`, with up to
/// `max_mismatched` exceptions, and none off the fragile mask when one is given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
    /// Elements allowed outside the tolerance (on the fragile mask).
    pub max_mismatched: usize,
}

/// Compares `got` with `expected` under `tol`; `fragile` marks elements that sit on a
/// sampling discontinuity and may differ (they count against `max_mismatched` only).
///
/// ```
/// use augflow::conformance::{Outcome, Tolerance, compare};
/// use ndarray::arr1;
/// let tol = Tolerance { atol: 1e-3, rtol: 0.0, max_mismatched: 0 };
/// let a = arr1(&[1.0, 2.0]).into_dyn();
/// assert_eq!(compare(&a, &arr1(&[1.0, 2.0005]).into_dyn(), &tol, None), Outcome::Passed);
/// assert!(matches!(compare(&a, &arr1(&[1.0, 2.1]).into_dyn(), &tol, None), Outcome::Failed { .. }));
/// ```
pub fn compare(
    got: &ArrayD<f64>,
    expected: &ArrayD<f64>,
    tol: &Tolerance,
    fragile: Option<&ArrayD<u8>>,
) -> Outcome {
    if got.shape() != expected.shape() {
        return Outcome::Failed {
            max_abs_err: f64::INFINITY,
            mismatches: expected.len(),
            detail: format!("shape {:?}, expected {:?}", got.shape(), expected.shape()),
        };
    }
    let (mut mismatches, mut off_mask, mut max_err) = (0usize, 0usize, 0f64);
    for (k, (g, e)) in got.iter().zip(expected.iter()).enumerate() {
        let err = (g - e).abs();
        let on_mask = fragile.is_some_and(|m| m.as_slice_memory_order().is_some_and(|s| s[k] != 0));
        let ok = err <= tol.atol + tol.rtol * e.abs() || (g.is_nan() && e.is_nan());
        if !on_mask && err > max_err {
            max_err = err;
        }
        if !ok {
            mismatches += 1;
            if !on_mask {
                off_mask += 1;
            }
        }
    }
    let off_allowed = if fragile.is_some() {
        0
    } else {
        tol.max_mismatched
    };
    if off_mask > off_allowed || mismatches > tol.max_mismatched {
        Outcome::Failed {
            max_abs_err: max_err,
            mismatches,
            detail: format!(
                "{mismatches} elements outside atol {} rtol {} ({off_mask} off the fragile mask; {} allowed)",
                tol.atol, tol.rtol, tol.max_mismatched
            ),
        }
    } else {
        Outcome::Passed
    }
}

fn format_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads a `.npy` file of f32, f64, i64, i32 or u8 values as `f64`.
pub fn read_npy_f64(path: &Path) -> Result<ArrayD<f64>> {
    use ndarray_npy::read_npy;
    if let Ok(a) = read_npy::<_, ArrayD<f32>>(path) {
        return Ok(a.mapv(|v| v as f64));
    }
    if let Ok(a) = read_npy::<_, ArrayD<f64>>(path) {
        return Ok(a);
    }
    if let Ok(a) = read_npy::<_, ArrayD<i64>>(path) {
        return Ok(a.mapv(|v| v as f64));
    }
    if let Ok(a) = read_npy::<_, ArrayD<i32>>(path) {
        return Ok(a.mapv(|v| v as f64));
    }
    match read_npy::<_, ArrayD<u8>>(path) {
        Ok(a) => Ok(a.mapv(|v| v as f64)),
        Err(e) => Err(format_err(path, e.to_string())),
    }
}

fn read_npy_f32(path: &Path) -> Result<ArrayD<f32>> {
    ndarray_npy::read_npy::<_, ArrayD<f32>>(path).map_err(|e| format_err(path, e.to_string()))
}

struct Case<'a> {
    dir: &'a Path,
    v: &'a Value,
    index: PathBuf,
}

impl Case<'_> {
    fn str(&self, key: &str) -> Result<&str> {
        self.v[key]
            .as_str()
            .ok_or_else(|| format_err(&self.index, format!("case without string `{key}`")))
    }
    fn path(&self, key: &str) -> Result<PathBuf> {
        Ok(self.dir.join(self.str(key)?))
    }
    fn tolerance(&self) -> Tolerance {
        let t = &self.v["tolerance"];
        Tolerance {
            atol: t["atol"].as_f64().unwrap_or(0.0),
            rtol: t["rtol"].as_f64().unwrap_or(0.0),
            max_mismatched: t["max_mismatched_elements"].as_u64().unwrap_or(0) as usize,
        }
    }
    fn generator(&self) -> Result<ImageDataGenerator> {
        let mut cfg: GeneratorConfig = serde_json::from_value(self.v["generator"].clone())
            .map_err(|e| format_err(&self.index, format!("{}: generator: {e}", self.v["id"])))?;
        cfg.geometry = Geometry::Keras;
        cfg.kernel = Kernel::Exact;
        ImageDataGenerator::new(cfg)
    }
}

/// Replays every case of `dir/index.json` and returns the results.
///
/// Kinds `apply_transform`, `standardize`, `fit_standardize`, `iterator` and
/// `iterator_error` are replayed; other kinds are reported as skipped. A case whose replay
/// errors counts as failed. An `iterator_error` case passes only when augflow refuses the
/// construction with the error mapped to Keras' message (the rank of `x`, the lengths of `y`,
/// `sample_weight` and the extra arrays, the subset name, the `validation_split` range, the
/// class split). Batches' `sample_weight` is checked against the rows of the batch's own
/// samples; where Keras' rows differ, the case passes with that deviation in
/// [`CaseResult::note`].
///
/// A folder without `index.json` is an error that says where the public set comes from:
///
/// ```
/// let err = augflow::conformance::replay_dir(std::path::Path::new("no/such/folder")).unwrap_err();
/// assert!(err.to_string().contains("shared/conformance"));
/// ```
pub fn replay_dir(dir: &Path) -> Result<Report> {
    let index = dir.join("index.json");
    if !index.is_file() {
        return Err(format_err(
            &index,
            format!(
                "no conformance set here. `{}` should be a folder of golden cases in the format of `shared/conformance/README.md`: `index.json`, `inputs/`, `expected/`. The public set is generated from Keras 2.9 and kept outside the crate, in the `shared/conformance` folder next to the repository checkout (hence the default `../shared/conformance`); pass the path of your copy as the first argument",
                dir.display()
            ),
        ));
    }
    let text = std::fs::read_to_string(&index).map_err(|e| Error::io(&index, e))?;
    let root: Value = serde_json::from_str(&text).map_err(|e| format_err(&index, e.to_string()))?;
    let cases = root["cases"]
        .as_array()
        .ok_or_else(|| format_err(&index, "no `cases` array"))?;
    let mut report = Report::default();
    for v in cases {
        let case = Case {
            dir,
            v,
            index: index.clone(),
        };
        let id = case.str("id")?.to_string();
        let kind = case.str("kind")?.to_string();
        let (outcome, note) = match replay(&case, &kind) {
            Ok(r) => r,
            Err(e) => (failed(format!("error: {e}")), None),
        };
        report.results.push(CaseResult {
            id,
            kind,
            outcome,
            note,
        });
    }
    Ok(report)
}

fn replay(case: &Case<'_>, kind: &str) -> Result<(Outcome, Option<String>)> {
    let plain = |o: Result<Outcome>| o.map(|o| (o, None));
    match kind {
        "apply_transform" => plain(replay_apply(case)),
        "standardize" => plain(replay_standardize(case)),
        "fit_standardize" => plain(replay_fit(case)),
        "iterator" => replay_iterator(case),
        "iterator_error" => plain(replay_iterator_error(case)),
        other => plain(Ok(Outcome::Skipped(format!(
            "kind `{other}` is not replayed yet"
        )))),
    }
}

fn to3(a: ArrayD<f32>, path: &Path) -> Result<Array3<f32>> {
    a.into_dimensionality::<Ix3>()
        .map_err(|e| format_err(path, format!("expected one image: {e}")))
}

fn replay_apply(case: &Case<'_>) -> Result<Outcome> {
    let input_path = case.path("input")?;
    let x = to3(read_npy_f32(&input_path)?, &input_path)?;
    let datagen = case.generator()?;
    let params: TransformParams = serde_json::from_value(case.v["params"].clone())
        .map_err(|e| format_err(&case.index, format!("params: {e}")))?;
    let got: Array3<f32> = datagen.apply_transform(x.view(), &params)?;
    let expected = read_npy_f64(&case.path("expected")?)?;
    let mask = match case.v["fragile_mask"].as_str() {
        Some(m) => {
            let p = case.dir.join(m);
            Some(
                ndarray_npy::read_npy::<_, ArrayD<u8>>(&p)
                    .map_err(|e| format_err(&p, e.to_string()))?,
            )
        }
        None => None,
    };
    Ok(compare(
        &got.mapv(|v| v as f64).into_dyn(),
        &expected,
        &case.tolerance(),
        mask.as_ref(),
    ))
}

fn replay_standardize(case: &Case<'_>) -> Result<Outcome> {
    let input_path = case.path("input")?;
    let mut x = read_npy_f32(&input_path)?;
    let datagen = case.generator()?;
    match x.ndim() {
        3 => datagen.standardize(x.view_mut().into_dimensionality::<Ix3>().expect("rank 3"))?,
        4 => {
            datagen.standardize_batch(x.view_mut().into_dimensionality::<Ix4>().expect("rank 4"))?
        }
        n => return Err(format_err(&input_path, format!("rank {n} input"))),
    }
    let expected = read_npy_f64(&case.path("expected")?)?;
    Ok(compare(
        &x.mapv(|v| v as f64),
        &expected,
        &case.tolerance(),
        None,
    ))
}

fn replay_fit(case: &Case<'_>) -> Result<Outcome> {
    let fit_path = case.path("fit_input")?;
    let fit_x = read_npy_f32(&fit_path)?
        .into_dimensionality::<Ix4>()
        .map_err(|e| format_err(&fit_path, e.to_string()))?;
    let mut datagen = case.generator()?;
    let args = &case.v["fit_args"];
    let opts = FitOptions {
        augment: args["augment"].as_bool().unwrap_or(false),
        rounds: args["rounds"].as_u64().unwrap_or(1) as usize,
        seed: args["seed"].as_u64(),
    };
    datagen.fit_with(fit_x.view(), opts)?;
    let tol = case.tolerance();
    // The fitted statistics themselves, where the case has them.
    let stats = datagen.stats();
    for (key, got) in [("mean", stats.mean.clone()), ("std", stats.std.clone())] {
        if let Some(file) = case.v["fitted"][key]["file"].as_str() {
            let exp = read_npy_f64(&case.dir.join(file))?;
            let Some(got) = got else {
                return Ok(Outcome::Failed {
                    max_abs_err: f64::NAN,
                    mismatches: exp.len(),
                    detail: format!("fit computed no `{key}`"),
                });
            };
            let got = ArrayD::from_shape_vec(exp.shape(), got.iter().map(|&v| v as f64).collect())
                .map_err(|e| format_err(&case.index, format!("fitted {key}: {e}")))?;
            if let o @ Outcome::Failed { .. } = compare(&got, &exp, &tol, None) {
                return Ok(o);
            }
        }
    }
    let input_path = case.path("input")?;
    let mut x = read_npy_f32(&input_path)?
        .into_dimensionality::<Ix4>()
        .map_err(|e| format_err(&input_path, e.to_string()))?;
    for img in x.axis_iter_mut(Axis(0)) {
        datagen.standardize(img)?;
    }
    let expected = read_npy_f64(&case.path("expected")?)?;
    Ok(compare(
        &x.mapv(|v| v as f64).into_dyn(),
        &expected,
        &tol,
        None,
    ))
}

fn failed(detail: String) -> Outcome {
    Outcome::Failed {
        max_abs_err: f64::NAN,
        mismatches: 0,
        detail,
    }
}

/// Builds the iterator a case describes, for one subset (or none): the generator, then `x`
/// (any rank: a wrong one is augflow's rank error, as for any user), then `flow`. Every
/// construction error is returned, for `iterator_error` cases to check.
fn build_flow(case: &Case<'_>, subset: Option<&str>) -> Result<NumpyArrayIterator<f32>> {
    let datagen = case.generator()?;
    let inputs = &case.v["flow_inputs"];
    let file = |key: &str| -> Option<PathBuf> { inputs[key].as_str().map(|f| case.dir.join(f)) };
    let x_path = file("x").ok_or_else(|| format_err(&case.index, "flow_inputs without x"))?;
    let x = datagen.batch_array(read_npy_f32(&x_path)?)?;
    let y = file("y").map(crate::array::read_npy).transpose()?;
    let flow = &case.v["flow"];
    let mut b = datagen.flow(x);
    if let Some(y) = y {
        b = b.y(y);
    }
    let mut b = b
        .batch_size(flow["batch_size"].as_u64().unwrap_or(32) as usize)
        .shuffle(flow["shuffle"].as_bool().unwrap_or(true));
    if let Some(s) = flow["seed"].as_u64() {
        b = b.seed(s);
    }
    if let Some(w) = file("sample_weight") {
        b = b.sample_weight(crate::array::read_npy(w)?);
    }
    for m in inputs["x_misc"].as_array().into_iter().flatten() {
        let p = case.dir.join(m.as_str().unwrap_or_default());
        b = b.extra(crate::array::read_npy(p)?);
    }
    if let Some(s) = subset {
        b = b.subset(s.parse::<Subset>()?);
    }
    b.build()
}

/// The numbers of a JSON value, nested lists flattened in order (a 2-D `y` of one-hot rows
/// gives its rows one after the other, as a C-order array does).
fn json_f64s(v: &Value) -> Vec<f64> {
    fn walk(v: &Value, out: &mut Vec<f64>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            other => out.extend(other.as_f64()),
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
}

/// Compares a batch array with the JSON list the case gives for it: the same number of rows
/// and the same values in C order.
fn same_values(what: &str, got: Option<&DynArray>, want: &Value) -> Result<Option<String>> {
    if want.is_null() {
        return Ok(None);
    }
    let Some(got) = got else {
        return Ok(Some(format!("no {what} in the batch")));
    };
    let rows = want.as_array().map_or(0, Vec::len);
    let (got_rows, got) = (got.len(), got.values_f64()?);
    let want = json_f64s(want);
    Ok((got != want || got_rows != rows)
        .then(|| format!("{what} {got:?} ({got_rows} rows), expected {want:?} ({rows} rows)")))
}

/// Checks the batch's `sample_weight` against the rows of the full `sample_weight` array
/// that belong to the batch's own samples (augflow keeps weights aligned, as its README
/// documents). Where Keras' rows differ (it does not split `sample_weight` under a
/// validation split, spec §13 step 5), returns that deviation as a note.
fn check_weights(
    k: usize,
    got: Option<&DynArray>,
    want: &Value,
    full: &[f64],
    samples: &[usize],
) -> Result<std::result::Result<Option<String>, String>> {
    if want.is_null() {
        return Ok(Ok(None));
    }
    let aligned: Option<Vec<f64>> = samples.iter().map(|&i| full.get(i).copied()).collect();
    let Some(aligned) = aligned else {
        return Ok(Err(format!(
            "batch {k}: samples {samples:?} outside sample_weight of length {}",
            full.len()
        )));
    };
    let got = match got {
        Some(g) => g.values_f64()?,
        None => return Ok(Err(format!("batch {k}: no sample_weight in the batch"))),
    };
    if got != aligned {
        return Ok(Err(format!(
            "batch {k}: sample_weight {got:?}, expected the rows of its samples {samples:?}: {aligned:?}"
        )));
    }
    let keras = json_f64s(want);
    Ok(Ok((keras != aligned).then(|| {
        format!(
            "batch {k}: Keras gives the weights {keras:?} (rows of sample_weight that are not the batch's samples, as it does not split sample_weight); augflow gives the batch's own {aligned:?}, the documented deviation"
        )
    })))
}

/// Checks one iterator against the expected `len` and `batches` of `spec`; returns the
/// outcome and the documented deviations seen.
fn check_iterator(
    case: &Case<'_>,
    it: &NumpyArrayIterator<f32>,
    spec: &Value,
) -> Result<(Outcome, Vec<String>)> {
    let want_len = spec["len"].as_u64().unwrap_or(0) as usize;
    if it.len() != want_len {
        return Ok((
            failed(format!("len {}, expected {want_len}", it.len())),
            vec![],
        ));
    }
    if case.v["informational"].as_bool() == Some(true) {
        return Ok((check_permutations(it)?, vec![]));
    }
    let weights = match case.v["flow_inputs"]["sample_weight"].as_str() {
        Some(f) => flat_values(read_npy_f64(&case.dir.join(f))?),
        None => Vec::new(),
    };
    let mut notes = Vec::new();
    let batches = spec["batches"].as_array().cloned().unwrap_or_default();
    for (k, want) in batches.iter().enumerate() {
        let b = it.get(k)?;
        let want_idx: Vec<usize> = json_f64s(&want["sample_index_from_x"])
            .iter()
            .map(|&v| v as usize)
            .collect();
        if b.index != want_idx {
            let msg = format!("batch {k}: samples {:?}, expected {want_idx:?}", b.index);
            return Ok((failed(msg), notes));
        }
        if let Some(msg) = same_values("y", b.y.as_ref(), &want["y"])? {
            return Ok((failed(format!("batch {k}: {msg}")), notes));
        }
        let sw = b.sample_weight.as_ref();
        match check_weights(k, sw, &want["sample_weight"], &weights, &want_idx)? {
            Ok(note) => notes.extend(note),
            Err(msg) => return Ok((failed(msg), notes)),
        }
        for (m, want_m) in want["x_misc"].as_array().into_iter().flatten().enumerate() {
            if let Some(msg) = same_values("x_misc", b.extras.get(m), want_m)? {
                return Ok((failed(format!("batch {k}: {msg}")), notes));
            }
        }
        let file = want["x"]
            .as_str()
            .ok_or_else(|| format_err(&case.index, "batch without x"))?;
        let expected = read_npy_f64(&case.dir.join(file))?;
        if let o @ Outcome::Failed { .. } = compare(
            &b.x.mapv(|v| v as f64).into_dyn(),
            &expected,
            &case.tolerance(),
            None,
        ) {
            return Ok((o, notes));
        }
    }
    Ok((Outcome::Passed, notes))
}

fn flat_values(a: ArrayD<f64>) -> Vec<f64> {
    a.iter().copied().collect()
}

/// Keras' numpy-RandomState order is not reproduced; each epoch must be a permutation.
fn check_permutations(it: &NumpyArrayIterator<f32>) -> Result<Outcome> {
    let mut it = it.clone();
    for epoch in 0..2 {
        let mut seen: Vec<usize> = Vec::new();
        for b in it.epoch() {
            seen.extend(b?.index);
        }
        seen.sort_unstable();
        if seen != (0..it.num_samples()).collect::<Vec<_>>() {
            return Ok(failed(format!(
                "epoch {epoch} is not a permutation: {seen:?}"
            )));
        }
        it.on_epoch_end();
    }
    Ok(Outcome::Passed)
}

fn replay_iterator(case: &Case<'_>) -> Result<(Outcome, Option<String>)> {
    let specs: Vec<(Option<&str>, &Value)> = match case.v["subsets"].as_object() {
        None => vec![(None, case.v)],
        Some(subsets) => subsets.iter().map(|(k, v)| (Some(k.as_str()), v)).collect(),
    };
    let mut notes = Vec::new();
    for (subset, spec) in specs {
        let (outcome, n) = check_iterator(case, &build_flow(case, subset)?, spec)?;
        let prefix = subset.map(|s| format!("{s} ")).unwrap_or_default();
        notes.extend(n.into_iter().map(|n| format!("{prefix}{n}")));
        if let o @ Outcome::Failed { .. } = outcome {
            return Ok((o, None));
        }
    }
    Ok((
        Outcome::Passed,
        (!notes.is_empty()).then(|| notes.join("; ")),
    ))
}

/// The augflow error each construction error of Keras maps to (spec §2 step 5, §13), found
/// by a phrase of Keras' message: the phrase, the error in words, and the test.
type ErrorMapping = (&'static str, &'static str, ErrorTest);

/// Whether an augflow error is the one a mapping expects.
type ErrorTest = fn(&Error) -> bool;

const KERAS_ERRORS: [ErrorMapping; 7] = [
    ("should have rank 4", "Error::Shape naming `x`", |e| {
        matches!(e, Error::Shape { name: "x", .. })
    }),
    (
        "and `y` (labels) should have the same length",
        "Error::LengthMismatch naming `y`",
        |e| matches!(e, Error::LengthMismatch { name, .. } if name == "y"),
    ),
    (
        "and `sample_weight` (sample weights) should have the same length",
        "Error::LengthMismatch naming `sample_weight`",
        |e| matches!(e, Error::LengthMismatch { name, .. } if name == "sample_weight"),
    ),
    (
        "All of the arrays in `x` should have the same length",
        "Error::LengthMismatch naming an extra array (x_misc)",
        |e| {
            matches!(e, Error::LengthMismatch { name, .. }
                if name.starts_with("extras") || name.starts_with("x_misc"))
        },
    ),
    (
        "Invalid subset name",
        "Error::InvalidParameter naming `subset`",
        |e| matches!(e, Error::InvalidParameter { name: "subset", .. }),
    ),
    (
        "`validation_split` must be strictly between 0 and 1",
        "Error::InvalidParameter naming `validation_split`",
        |e| {
            matches!(
                e,
                Error::InvalidParameter {
                    name: "validation_split",
                    ..
                }
            )
        },
    ),
    (
        "different number of classes after the split",
        "Error::ClassSplit",
        |e| matches!(e, Error::ClassSplit { .. }),
    ),
];

/// The augflow error (in words, and its test) that Keras' construction error `message`
/// maps to, or `None` for a message no mapping covers.
fn expected_error(message: &str) -> Option<(&'static str, ErrorTest)> {
    KERAS_ERRORS
        .iter()
        .find(|(phrase, _, _)| message.contains(phrase))
        .map(|&(_, what, test)| (what, test))
}

fn replay_iterator_error(case: &Case<'_>) -> Result<Outcome> {
    let message = case.v["raises"]["message"].as_str().unwrap_or_default();
    let Some((what, test)) = expected_error(message) else {
        return Ok(failed(format!(
            "no augflow error is mapped to Keras' {:?}: {message:?}",
            case.v["raises"]["type"].as_str().unwrap_or("error")
        )));
    };
    let subset = case.v["flow"]["subset"].as_str();
    Ok(match build_flow(case, subset) {
        Ok(_) => failed(format!("built, expected {what} (Keras: {message:?})")),
        Err(e) if test(&e) => Outcome::Passed,
        Err(e) => failed(format!("error `{e}`, expected {what} (Keras: {message:?})")),
    })
}
