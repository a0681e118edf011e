//! `DataFrameIterator`: Keras' `flow_from_dataframe` over a CSV file (one row per image),
//! with every class mode, sample weights and multi-label rows.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};

use super::decode::is_whitelisted;
use super::files::{ClassMode, Common, FileBatches, Targets, common_setters, file_iterator_common};
use super::{BatchElement, Subset};
use crate::generator::ImageDataGenerator;
use crate::{DynArray, Error, Result};

/// Builds a [`DataFrameIterator`]: Keras' `flow_from_dataframe` arguments, validated in
/// [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct DataFrameBuilder<O = f32> {
    datagen: ImageDataGenerator,
    csv: PathBuf,
    directory: Option<PathBuf>,
    x_col: String,
    y_cols: Vec<String>,
    y_col_is_list: bool,
    weight_col: Option<String>,
    classes: Option<Vec<String>>,
    class_mode: ClassMode,
    validate_filenames: bool,
    separator: Option<char>,
    common: Common,
    _out: PhantomData<O>,
}

impl ImageDataGenerator {
    /// Keras' `flow_from_dataframe`, the dataframe being a CSV file with a header row: one
    /// row per image, the file name in `x_col`, the label(s) in `y_col`.
    ///
    /// File names are joined to [`directory`](DataFrameBuilder::directory) when given, and
    /// otherwise used as they are (relative to the working directory, as in Keras).
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, Sequence};
    ///
    /// let dir = tempfile::tempdir()?;
    /// for name in ["a.png", "b.png", "c.png"] {
    ///     image::GrayImage::from_pixel(6, 4, image::Luma([9])).save(dir.path().join(name))?;
    /// }
    /// let csv = dir.path().join("labels.csv");
    /// std::fs::write(&csv, "filename,class,w\na.png,cat,1.0\nb.png,dog,2.5\nc.png,\"['cat', 'dog']\",1\nmissing.png,cat,1\n")?;
    /// let datagen = ImageDataGenerator::builder().build()?;
    /// let it = datagen
    ///     .flow_from_dataframe(&csv)
    ///     .directory(dir.path())
    ///     .weight_col("w")
    ///     .target_size(4, 6)
    ///     .shuffle(false)
    ///     .build()?; // missing.png is dropped with one warning
    /// assert_eq!(it.filenames(), &["a.png", "b.png", "c.png"]);
    /// let b = it.get(0)?;
    /// let y = b.y.unwrap().into_array::<f32>()?;
    /// assert_eq!(y.as_slice().unwrap(), &[1., 0., 0., 1., 1., 1.]); // multi-hot for c.png
    /// assert_eq!(b.sample_weight.unwrap().view::<f64>()?.as_slice().unwrap(), &[1.0, 2.5, 1.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flow_from_dataframe(&self, csv_path: impl AsRef<Path>) -> DataFrameBuilder<f32> {
        DataFrameBuilder {
            datagen: self.clone(),
            csv: csv_path.as_ref().to_path_buf(),
            directory: None,
            x_col: "filename".into(),
            y_cols: vec!["class".into()],
            y_col_is_list: false,
            weight_col: None,
            classes: None,
            class_mode: ClassMode::Categorical,
            validate_filenames: true,
            separator: Some('|'),
            common: Common::default(),
            _out: PhantomData,
        }
    }
}

impl<O: BatchElement> DataFrameBuilder<O> {
    common_setters!();

    /// Folder the file names are relative to.
    pub fn directory(mut self, dir: impl AsRef<Path>) -> Self {
        self.directory = Some(dir.as_ref().to_path_buf());
        self
    }
    /// The column holding the file names (default `"filename"`).
    pub fn x_col(mut self, name: impl Into<String>) -> Self {
        self.x_col = name.into();
        self
    }
    /// The one label column (default `"class"`).
    pub fn y_col(mut self, name: impl Into<String>) -> Self {
        self.y_cols = vec![name.into()];
        self.y_col_is_list = false;
        self
    }
    /// Several target columns, as Keras' `y_col=[...]`: for `raw` (an `(n, k)` array) and
    /// `multi_output` (one array per column).
    pub fn y_cols<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.y_cols = names.into_iter().map(Into::into).collect();
        self.y_col_is_list = true;
        self
    }
    /// A numeric column returned as `Batch::sample_weight` (`f64`).
    pub fn weight_col(mut self, name: impl Into<String>) -> Self {
        self.weight_col = Some(name.into());
        self
    }
    /// The classes to use, in index order; rows with no label among them are dropped.
    /// By default every label found, sorted.
    pub fn classes<S: Into<String>>(mut self, classes: impl IntoIterator<Item = S>) -> Self {
        self.classes = Some(classes.into_iter().map(Into::into).collect());
        self
    }
    /// What `y` holds (default categorical); see [`ClassMode`].
    pub fn class_mode(mut self, mode: ClassMode) -> Self {
        self.class_mode = mode;
        self
    }
    /// Drop rows whose file is missing or has no white-listed extension, with one warning
    /// that counts them (default true). When false, such a file makes its batch an error.
    pub fn validate_filenames(mut self, on: bool) -> Self {
        self.validate_filenames = on;
        self
    }
    /// The separator of multi-label cells in categorical mode (default `Some('|')`: `a|b`);
    /// `None` reads such cells as one label. List cells (`['a', 'b']`) are always read
    /// as lists.
    pub fn multi_label_separator(mut self, sep: Option<char>) -> Self {
        self.separator = sep;
        self
    }
    /// Output element type: `f32` (default), `f64`, or `half::f16` / `half::bf16` (computed in
    /// `f32`, then rounded to nearest even; see [`BatchElement`]); overrides the generator's
    /// `dtype`. With class mode `input`, `y` of a half-precision batch is `x` widened to
    /// `f32` (exact).
    pub fn output<O2: BatchElement>(self) -> DataFrameBuilder<O2> {
        let mut common = self.common;
        common.explicit_output = true;
        DataFrameBuilder {
            datagen: self.datagen,
            csv: self.csv,
            directory: self.directory,
            x_col: self.x_col,
            y_cols: self.y_cols,
            y_col_is_list: self.y_col_is_list,
            weight_col: self.weight_col,
            classes: self.classes,
            class_mode: self.class_mode,
            validate_filenames: self.validate_filenames,
            separator: self.separator,
            common,
            _out: PhantomData,
        }
    }

    /// Reads the CSV file, checks every argument (Keras' `_check_params`, spec §14.4) and
    /// builds the iterator.
    ///
    /// Errors: an unreadable file ([`Error::Io`]); malformed CSV, an empty label cell, a
    /// non-numeric weight or raw target ([`Error::Format`], naming the line); a missing
    /// column, a list where a single label is needed, a binary problem without exactly two
    /// classes ([`Error::InvalidParameter`]); no row left ([`Error::Empty`]).
    pub fn build(self) -> Result<DataFrameIterator<O>> {
        self.common.validate::<O>(&self.datagen)?;
        let mode = self.class_mode;
        let csv = &self.csv;
        let fmt_err = |line: u64, message: String| Error::Format {
            path: csv.clone(),
            message: format!("line {line}: {message}"),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(csv)
            .map_err(|e| csv_error(csv, e))?;
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| csv_error(csv, e))?
            .iter()
            .map(str::to_owned)
            .collect();
        let column = |param: &'static str, name: &str| -> Result<usize> {
            headers.iter().position(|h| h == name).ok_or_else(|| {
                Error::invalid(
                    param,
                    format!("{name:?}"),
                    format!("a column of {}: {headers:?}", csv.display()),
                )
            })
        };
        // _check_params, in Keras' order.
        if mode == ClassMode::MultiOutput && !self.y_col_is_list {
            return Err(Error::invalid(
                "y_col",
                format!("{:?} (one column)", self.y_cols[0]),
                "a list of columns (`y_cols`) when class_mode=\"multi_output\"",
            ));
        }
        if mode.uses_classes() && self.y_cols.len() != 1 {
            return Err(Error::invalid(
                "y_col",
                format!("{:?}", self.y_cols),
                format!("a single label column when class_mode=\"{mode}\""),
            ));
        }
        if self.y_cols.is_empty() && matches!(mode, ClassMode::Raw | ClassMode::MultiOutput) {
            return Err(Error::invalid(
                "y_col",
                "[]",
                format!("at least one column when class_mode=\"{mode}\""),
            ));
        }
        if self.classes.is_some() && !mode.uses_classes() {
            log::warn!("`classes` will be ignored given the class_mode=\"{mode}\"");
        }
        let x_idx = column("x_col", &self.x_col)?;
        let y_idx: Vec<usize> = match mode {
            ClassMode::Input | ClassMode::None => Vec::new(),
            _ => self
                .y_cols
                .iter()
                .map(|c| column("y_col", c))
                .collect::<Result<_>>()?,
        };
        let w_idx = self
            .weight_col
            .as_deref()
            .map(|c| column("weight_col", c))
            .transpose()?;

        let mut rows: Vec<Row> = Vec::new();
        for rec in reader.records() {
            let rec = rec.map_err(|e| csv_error(csv, e))?;
            let line = rec.position().map_or(0, |p| p.line());
            let cell = |i: usize| rec.get(i).unwrap_or("");
            let labels = if mode.uses_classes() {
                let raw = cell(y_idx[0]);
                if raw.trim().is_empty() {
                    return Err(fmt_err(
                        line,
                        format!(
                            "empty label in y_col={:?}; class_mode=\"{mode}\" needs a label in every row",
                            self.y_cols[0]
                        ),
                    ));
                }
                if mode == ClassMode::Categorical {
                    parse_labels(raw, self.separator).map_err(|m| fmt_err(line, m))?
                } else if is_list_cell(raw) {
                    return Err(Error::invalid(
                        "y_col",
                        format!("{:?} holding {raw:?} at line {line}", self.y_cols[0]),
                        format!(
                            "a single string label per row when class_mode=\"{mode}\" (lists need categorical)"
                        ),
                    ));
                } else {
                    vec![raw.to_owned()]
                }
            } else {
                Vec::new()
            };
            let targets = if matches!(mode, ClassMode::Raw | ClassMode::MultiOutput) {
                y_idx
                    .iter()
                    .zip(&self.y_cols)
                    .map(|(&i, name)| {
                        number(cell(i)).ok_or_else(|| {
                            fmt_err(
                                line,
                                format!(
                                    "y_col={name:?} holds {:?}; class_mode=\"{mode}\" reads numbers",
                                    cell(i)
                                ),
                            )
                        })
                    })
                    .collect::<Result<Vec<f64>>>()?
            } else {
                Vec::new()
            };
            let weight = match (w_idx, &self.weight_col) {
                (Some(i), Some(name)) => Some(number(cell(i)).ok_or_else(|| {
                    Error::invalid(
                        "weight_col",
                        format!("{name:?} holding {:?} at line {line}", cell(i)),
                        "a numeric column",
                    )
                })?),
                _ => None,
            };
            rows.push(Row {
                filename: cell(x_idx).to_owned(),
                labels,
                targets,
                weight,
            });
        }
        if mode == ClassMode::Binary {
            let n = match &self.classes {
                Some(c) => c.len(),
                None => rows
                    .iter()
                    .map(|r| r.labels[0].as_str())
                    .collect::<BTreeSet<_>>()
                    .len(),
            };
            if n != 2 {
                return Err(Error::invalid(
                    "class_mode",
                    format!("\"binary\" with {n} classes"),
                    "exactly 2 classes (If class_mode=\"binary\" there must be 2 classes)",
                ));
            }
        }
        let dir = self.directory.clone().unwrap_or_default();
        if self.validate_filenames {
            let before = rows.len();
            rows.retain(|r| {
                let p = dir.join(&r.filename);
                is_whitelisted(&p) && p.is_file()
            });
            let invalid = before - rows.len();
            if invalid > 0 {
                log::warn!(
                    "Found {invalid} invalid image filename(s) in x_col=\"{}\". These filename(s) will be ignored.",
                    self.x_col
                );
            }
        }
        let mut class_names = Vec::new();
        if mode.uses_classes() {
            match &self.classes {
                Some(given) => {
                    for c in given {
                        if !class_names.contains(c) {
                            class_names.push(c.clone());
                        }
                    }
                    let before = rows.len();
                    for r in &mut rows {
                        r.labels.retain(|l| class_names.contains(l));
                    }
                    rows.retain(|r| !r.labels.is_empty());
                    if rows.len() < before {
                        log::info!(
                            "{} row(s) have no label among the given classes and are ignored.",
                            before - rows.len()
                        );
                    }
                }
                None => {
                    let all: BTreeSet<&str> = rows
                        .iter()
                        .flat_map(|r| r.labels.iter().map(String::as_str))
                        .collect();
                    class_names = all.into_iter().map(str::to_owned).collect();
                }
            }
        }
        let total = rows.len();
        let split = self.datagen.config().validation_split;
        let range = self.common.split_range(total, split);
        let rows: Vec<Row> = rows
            .into_iter()
            .skip(range.start)
            .take(range.len())
            .collect();
        if rows.is_empty() {
            let expected = match self.common.subset {
                Some(s) if total > 0 => format!(
                    "the {s:?} subset of the {total} rows with validation_split {split} holds no row; use more data or another split"
                ),
                _ => format!(
                    "rows naming image files in {}; none is left{}",
                    csv.display(),
                    if self.validate_filenames {
                        " after dropping missing or non-image files"
                    } else {
                        ""
                    }
                ),
            };
            return Err(Error::Empty {
                name: "dataframe",
                expected,
            });
        }
        let class_indices: BTreeMap<String, usize> = class_names
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        let classes: Vec<Vec<usize>> = rows
            .iter()
            .map(|r| r.labels.iter().map(|l| class_indices[l]).collect())
            .collect();
        let n = rows.len();
        let targets = match mode {
            ClassMode::Categorical => Targets::MultiHot {
                labels: classes.clone(),
                num_classes: class_names.len(),
            },
            ClassMode::Binary | ClassMode::Sparse => {
                Targets::Index(classes.iter().map(|c| c[0]).collect())
            }
            ClassMode::Input => Targets::Input,
            ClassMode::None => Targets::None,
            ClassMode::Raw if self.y_cols.len() == 1 => Targets::Raw(DynArray::from(
                rows.iter().map(|r| r.targets[0]).collect::<Array1<f64>>(),
            )),
            ClassMode::Raw => {
                let k = self.y_cols.len();
                let flat = rows
                    .iter()
                    .flat_map(|r| r.targets.iter().copied())
                    .collect();
                Targets::Raw(DynArray::from(
                    Array2::from_shape_vec((n, k), flat).map_err(|e| Error::Format {
                        path: csv.clone(),
                        message: format!("internal shape error: {e}"),
                    })?,
                ))
            }
            ClassMode::MultiOutput => Targets::MultiOutput(
                (0..self.y_cols.len())
                    .map(|j| {
                        DynArray::from(rows.iter().map(|r| r.targets[j]).collect::<Array1<f64>>())
                    })
                    .collect(),
            ),
        };
        let sample_weight = w_idx.map(|_| {
            DynArray::from(
                rows.iter()
                    .map(|r| r.weight.unwrap_or(1.0))
                    .collect::<Array1<f64>>(),
            )
        });
        let validated = if self.validate_filenames {
            "validated"
        } else {
            "non-validated"
        };
        if mode.uses_classes() {
            log::info!(
                "Found {n} {validated} image filenames belonging to {} classes.",
                class_names.len()
            );
        } else {
            log::info!("Found {n} {validated} image filenames.");
        }
        let filenames: Vec<String> = rows.into_iter().map(|r| r.filename).collect();
        let paths = filenames.iter().map(|f| dir.join(f)).collect();
        Ok(DataFrameIterator {
            core: FileBatches::new(
                self.datagen,
                paths,
                targets,
                sample_weight,
                &self.common,
                || {
                    if mode.uses_classes() {
                        classes
                            .iter()
                            .map(|c| class_folder(c, &class_names))
                            .collect()
                    } else {
                        Vec::new()
                    }
                },
            )?,
            filenames,
            classes: if mode.uses_classes() {
                classes
            } else {
                Vec::new()
            },
            class_names,
            class_indices,
            class_mode: mode,
            subset: self.common.subset,
        })
    }
}

/// The save sub-folder of a row with class indices `labels`: the class name, or for a
/// multi-label row the names in class-index order joined by `+` (`"cat+dog"`).
fn class_folder(labels: &[usize], class_names: &[String]) -> String {
    let mut sorted = labels.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted
        .iter()
        .map(|&k| class_names[k].as_str())
        .collect::<Vec<_>>()
        .join("+")
}

/// One CSV row, parsed.
struct Row {
    filename: String,
    labels: Vec<String>,
    targets: Vec<f64>,
    weight: Option<f64>,
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    // csv's message names the record, line and byte, and what was wrong.
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        _ => Error::Format {
            path: path.to_path_buf(),
            message,
        },
    }
}

/// A number as pandas would read it (surrounding spaces allowed); `None` otherwise.
fn number(cell: &str) -> Option<f64> {
    cell.trim().parse::<f64>().ok()
}

fn is_list_cell(cell: &str) -> bool {
    let t = cell.trim();
    t.starts_with('[') && t.ends_with(']')
}

/// The labels of a categorical cell:
/// * a list written as Python or JSON writes it, `['a', 'b']`, `["a","b"]` or `[a, b]`
///   (items quoted with `'` or `"` may hold commas; `\` escapes the next character);
/// * otherwise, with a separator, `a|b` (spaces around items trimmed);
/// * otherwise the cell is one label, exactly as written.
fn parse_labels(cell: &str, sep: Option<char>) -> std::result::Result<Vec<String>, String> {
    let t = cell.trim();
    if is_list_cell(t) {
        return parse_list(&t[1..t.len() - 1]).map_err(|m| format!("label list {cell:?}: {m}"));
    }
    match sep {
        Some(s) if t.contains(s) => {
            let items: Vec<String> = t.split(s).map(|p| p.trim().to_owned()).collect();
            if items.iter().any(String::is_empty) {
                return Err(format!(
                    "label cell {cell:?} has an empty item between {s:?} separators"
                ));
            }
            Ok(items)
        }
        _ => Ok(vec![cell.to_owned()]),
    }
}

fn parse_list(inner: &str) -> std::result::Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            break;
        };
        let item = if first == '\'' || first == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err(format!("unclosed quote {first}")),
                    Some('\\') => s.extend(chars.next()),
                    Some(c) if c == first => break,
                    Some(c) => s.push(c),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            s
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                s.push(c);
                chars.next();
            }
            let s = s.trim().to_owned();
            if s.is_empty() {
                return Err("an empty item".into());
            }
            s
        };
        items.push(item);
        match chars.next() {
            None => break,
            Some(',') => {}
            Some(c) => return Err(format!("expected ',' after an item, found {c:?}")),
        }
    }
    Ok(items)
}

/// Keras' `DataFrameIterator`, made reproducible and parallel: batches of the images named
/// in a CSV file, with their labels, targets and weights.
///
/// Same guarantees as [`DirectoryIterator`](super::DirectoryIterator): the transform of row
/// `i` (an index into [`filenames`](Self::filenames)) in epoch `e` is a pure function of
/// `(seed, e, i)`, and batches are bit-identical for any thread count.
#[derive(Debug, Clone)]
pub struct DataFrameIterator<O = f32> {
    core: FileBatches<O>,
    filenames: Vec<String>,
    classes: Vec<Vec<usize>>,
    class_names: Vec<String>,
    class_indices: BTreeMap<String, usize>,
    class_mode: ClassMode,
    subset: Option<Subset>,
}

file_iterator_common!(DataFrameIterator);

impl<O: BatchElement> DataFrameIterator<O> {
    /// The `x_col` values of the rows served, in CSV order (after dropping and splitting).
    pub fn filenames(&self) -> &[String] {
        &self.filenames
    }
    /// The class indices of each row (one, or several for multi-label rows); empty for
    /// the modes without classes (input, raw, multi_output, None).
    pub fn classes(&self) -> &[Vec<usize>] {
        &self.classes
    }
    /// Class name → index (empty for the modes without classes).
    pub fn class_indices(&self) -> &BTreeMap<String, usize> {
        &self.class_indices
    }
    /// The class names in index order.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }
    /// The label mode.
    pub fn class_mode(&self) -> ClassMode {
        self.class_mode
    }
    /// The subset served, if any.
    pub fn subset(&self) -> Option<Subset> {
        self.subset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_and_json_lists_and_separators_parse_to_labels() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_labels("['a', 'b']", None).unwrap(), v(&["a", "b"]));
        assert_eq!(
            parse_labels(r#"["x,y","z"]"#, None).unwrap(),
            v(&["x,y", "z"])
        );
        assert_eq!(parse_labels("[a, b ,]", None).unwrap(), v(&["a", "b"]));
        assert_eq!(parse_labels("[]", None).unwrap(), Vec::<String>::new());
        assert_eq!(parse_labels("a | b", Some('|')).unwrap(), v(&["a", "b"]));
        assert_eq!(parse_labels("a|b", None).unwrap(), v(&["a|b"]));
        assert_eq!(parse_labels(" cat", Some('|')).unwrap(), v(&[" cat"]));
        assert!(parse_labels("['a', 'b]", None).is_err());
        assert!(parse_labels("[a,,b]", None).is_err());
        assert!(parse_labels("a||b", Some('|')).is_err());
    }
}
