//! `DataFrameIterator`: Keras' `flow_from_dataframe` over a CSV file (one row per image),
//! with every class mode, sample weights and multi-label rows.

mod rows;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};

use super::decode::{LoadOptions, is_whitelisted};
use super::files::{ClassList, ClassMode, FileSource, FileSpec, Targets, check_label_dtype};
use super::subset::{empty_subset, split_range};
use super::{BatchIterator, BatchOptions, IteratorBuilder, SourceSpec, Subset};
use crate::DType;
use crate::generator::ImageDataGenerator;
use crate::targets::MaskValue;
use crate::{DynArray, Error, Result};
use rows::Row;

/// What [`ImageDataGenerator::flow_from_dataframe`] builds from: the CSV file, its columns,
/// and how files are loaded.
#[derive(Debug, Clone)]
pub struct DataFrameSpec {
    csv: PathBuf,
    directory: Option<PathBuf>,
    x_col: String,
    mask_col: Option<String>,
    y_cols: Vec<String>,
    y_col_is_list: bool,
    weight_col: Option<String>,
    classes: Option<Vec<String>>,
    class_mode: ClassMode,
    validate_filenames: bool,
    separator: Option<char>,
    load: LoadOptions,
    label_dtype: DType,
}

/// What a dataframe knows besides its files.
#[derive(Debug, Clone)]
pub struct CsvRows {
    filenames: Vec<String>,
    mask_filenames: Vec<String>,
    classes: Vec<Vec<usize>>,
    subset: Option<Subset>,
}

/// Builds a [`DataFrameIterator`]: Keras' `flow_from_dataframe` arguments, validated in
/// [`build`](IteratorBuilder::build).
pub type DataFrameBuilder<O = f32> = IteratorBuilder<DataFrameSpec, O>;

/// Keras' `DataFrameIterator`, made reproducible and parallel: batches of the images named
/// in a CSV file, with their labels, targets and weights.
///
/// Same guarantees as [`DirectoryIterator`](super::DirectoryIterator): the transform of row
/// `i` (an index into [`filenames`](BatchIterator::filenames)) in epoch `e` is a pure
/// function of `(seed, e, i)`, and batches are bit-identical for any thread count.
pub type DataFrameIterator<O = f32> = BatchIterator<FileSource<CsvRows>, O>;

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
    pub fn flow_from_dataframe(&self, csv_path: impl AsRef<Path>) -> DataFrameBuilder {
        let spec = DataFrameSpec {
            csv: csv_path.as_ref().to_path_buf(),
            directory: None,
            x_col: "filename".into(),
            mask_col: None,
            y_cols: vec!["class".into()],
            y_col_is_list: false,
            weight_col: None,
            classes: None,
            class_mode: ClassMode::Categorical,
            validate_filenames: true,
            separator: Some('|'),
            load: LoadOptions::new().target_size(256, 256),
            label_dtype: DType::F32,
        };
        IteratorBuilder::new(self, spec)
    }
}

impl FileSpec for DataFrameSpec {
    fn load_options_mut(&mut self) -> &mut LoadOptions {
        &mut self.load
    }
    fn label_dtype_mut(&mut self) -> &mut DType {
        &mut self.label_dtype
    }
}

impl<O> DataFrameBuilder<O> {
    /// Folder the file names are relative to.
    pub fn directory(mut self, dir: impl AsRef<Path>) -> Self {
        self.spec.directory = Some(dir.as_ref().to_path_buf());
        self
    }
    /// The column holding the file names (default `"filename"`).
    pub fn x_col(mut self, name: impl Into<String>) -> Self {
        self.spec.x_col = name.into();
        self
    }
    /// The column holding each image's mask file (relative to
    /// [`directory`](Self::directory), like `x_col`): each batch's
    /// [`masks`](super::Batch::masks) then holds its images' masks, `(n, H, W, 1)`, moved
    /// through their draws as [`flow(x).masks(m)`](super::FlowBuilder::masks) moves array
    /// masks (nearest sampling, the fill mode with `mask_cval`, no photometric step).
    ///
    /// A mask file is read as class ids, one channel: 8-bit grayscale as `u8`, 16-bit as
    /// `u16`, a palette PNG as its palette indices (`u8`, as PIL's mode `P`), an RGB file
    /// whose channels are equal as that channel; alpha is ignored, and a colour-coded mask
    /// is an error (map its colours to ids first). Every mask of a batch must have the same
    /// depth. A mask must have its image's size, and is brought to `target_size` as its
    /// image is (the same `keep_aspect_ratio` crop), with nearest sampling whatever the
    /// image's `interpolation`. A missing, corrupt or wrongly sized mask makes its batch an
    /// error naming the file (with both sizes); with `validate_filenames`, rows whose mask
    /// file is missing are dropped at `build`, with one warning that counts them.
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, Sequence};
    ///
    /// let dir = tempfile::tempdir()?;
    /// image::GrayImage::from_fn(8, 6, |x, _| image::Luma([if x < 4 { 0 } else { 200 }])).save(dir.path().join("a.png"))?;
    /// image::GrayImage::from_fn(8, 6, |x, _| image::Luma([u8::from(x >= 4)])).save(dir.path().join("a_mask.png"))?;
    /// let csv = dir.path().join("seg.csv");
    /// std::fs::write(&csv, "filename,mask\na.png,a_mask.png\n")?;
    /// let datagen = ImageDataGenerator::builder().horizontal_flip(true).build()?;
    /// let it = datagen
    ///     .flow_from_dataframe(&csv)
    ///     .directory(dir.path())
    ///     .mask_col("mask")
    ///     .class_mode(augflow::iterators::ClassMode::None)
    ///     .color_mode(augflow::iterators::ColorMode::Grayscale)
    ///     .target_size(3, 4) // the mask is resized with its image, nearest
    ///     .build()?;
    /// let b = it.get(0)?;
    /// let mask = b.masks.unwrap().into_array::<u8>()?;
    /// assert_eq!(mask.shape(), &[1, 3, 4, 1]);
    /// for (m, x) in mask.iter().zip(b.x.iter()) {
    ///     assert_eq!(*m == 1, *x > 100.0); // flipped or not, the mask follows the image
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mask_col(mut self, name: impl Into<String>) -> Self {
        self.spec.mask_col = Some(name.into());
        self
    }
    /// The one label column (default `"class"`).
    pub fn y_col(mut self, name: impl Into<String>) -> Self {
        self.spec.y_cols = vec![name.into()];
        self.spec.y_col_is_list = false;
        self
    }
    /// Several target columns, as Keras' `y_col=[...]`: for `raw` (an `(n, k)` array) and
    /// `multi_output` (one array per column).
    pub fn y_cols<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.spec.y_cols = names.into_iter().map(Into::into).collect();
        self.spec.y_col_is_list = true;
        self
    }
    /// A numeric column returned as `Batch::sample_weight` (`f64`).
    pub fn weight_col(mut self, name: impl Into<String>) -> Self {
        self.spec.weight_col = Some(name.into());
        self
    }
    /// The classes to use, in index order; rows with no label among them are dropped.
    /// By default every label found, sorted.
    pub fn classes<S: Into<String>>(mut self, classes: impl IntoIterator<Item = S>) -> Self {
        self.spec.classes = Some(classes.into_iter().map(Into::into).collect());
        self
    }
    /// What `y` holds (default categorical); see [`ClassMode`].
    pub fn class_mode(mut self, mode: ClassMode) -> Self {
        self.spec.class_mode = mode;
        self
    }
    /// Drop rows whose file is missing or has no white-listed extension, with one warning
    /// that counts them (default true). When false, such a file makes its batch an error.
    pub fn validate_filenames(mut self, on: bool) -> Self {
        self.spec.validate_filenames = on;
        self
    }
    /// The separator of multi-label cells in categorical mode (default `Some('|')`: `a|b`);
    /// `None` reads such cells as one label. List cells (`['a', 'b']`) are always read
    /// as lists.
    pub fn multi_label_separator(mut self, sep: Option<char>) -> Self {
        self.spec.separator = sep;
        self
    }
}

impl SourceSpec for DataFrameSpec {
    type Source = FileSource<CsvRows>;

    /// Reads the CSV file, checks every argument (Keras' `_check_params`, spec §14.4).
    ///
    /// Errors: an unreadable file ([`Error::Io`]); malformed CSV, an empty label cell, a
    /// non-numeric weight or raw target ([`Error::Format`], naming the line); a missing
    /// column, a list where a single label is needed, a binary problem without exactly two
    /// classes ([`Error::InvalidParameter`]); no row left ([`Error::Empty`]).
    fn into_source(
        self,
        datagen: &ImageDataGenerator,
        options: &BatchOptions,
    ) -> Result<(Self::Source, Option<Vec<usize>>)> {
        self.load.validate()?;
        check_label_dtype(self.label_dtype)?;
        self.check_params()?;
        if self.mask_col.is_some() {
            check_file_mask_cval(options.mask_cval)?;
        }
        let mut rows = self.read_rows()?;
        self.check_binary(&rows)?;
        self.drop_invalid_files(&mut rows);
        let class_names = self.resolve_classes(&mut rows);
        let total = rows.len();
        let split = datagen.config().validation_split;
        let range = split_range(total, split, options.subset);
        let rows: Vec<Row> = rows
            .into_iter()
            .skip(range.start)
            .take(range.len())
            .collect();
        if rows.is_empty() {
            return Err(self.no_rows(options.subset, total, split));
        }
        self.log_found(rows.len(), class_names.len());
        Ok((self.source(rows, class_names, options.subset), None))
    }

    fn size_parameter(&self) -> &'static str {
        "target_size"
    }
}

impl DataFrameSpec {
    /// Keras' `_check_params`, in Keras' order.
    fn check_params(&self) -> Result<()> {
        let mode = self.class_mode;
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
        Ok(())
    }

    /// A binary problem has exactly two classes.
    fn check_binary(&self, rows: &[Row]) -> Result<()> {
        if self.class_mode != ClassMode::Binary {
            return Ok(());
        }
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
        Ok(())
    }

    fn directory(&self) -> PathBuf {
        self.directory.clone().unwrap_or_default()
    }

    /// With `validate_filenames`, drops the rows whose file (or mask file) is missing or
    /// not an image, with one warning per column that counts them.
    fn drop_invalid_files(&self, rows: &mut Vec<Row>) {
        if !self.validate_filenames {
            return;
        }
        let dir = self.directory();
        let valid = |name: &str| {
            let p = dir.join(name);
            is_whitelisted(&p) && p.is_file()
        };
        let before = rows.len();
        rows.retain(|r| valid(&r.filename));
        let after_images = rows.len();
        rows.retain(|r| r.mask.as_deref().is_none_or(valid));
        let columns = [
            ("x_col", Some(&self.x_col)),
            ("mask_col", self.mask_col.as_ref()),
        ];
        let dropped = [before - after_images, after_images - rows.len()];
        for ((param, column), invalid) in columns.into_iter().zip(dropped) {
            if let Some(column) = column.filter(|_| invalid > 0) {
                log::warn!(
                    "Found {invalid} invalid image filename(s) in {param}=\"{column}\". These filename(s) will be ignored."
                );
            }
        }
    }

    /// The class names in index order: the given classes (dropping rows with no label
    /// among them), or every label found, sorted.
    fn resolve_classes(&self, rows: &mut Vec<Row>) -> Vec<String> {
        if !self.class_mode.uses_classes() {
            return Vec::new();
        }
        let Some(given) = &self.classes else {
            let all: BTreeSet<&str> = rows
                .iter()
                .flat_map(|r| r.labels.iter().map(String::as_str))
                .collect();
            return all.into_iter().map(str::to_owned).collect();
        };
        let mut class_names: Vec<String> = Vec::new();
        for c in given {
            if !class_names.contains(c) {
                class_names.push(c.clone());
            }
        }
        let before = rows.len();
        for r in rows.iter_mut() {
            r.labels.retain(|l| class_names.contains(l));
        }
        rows.retain(|r| !r.labels.is_empty());
        if rows.len() < before {
            log::info!(
                "{} row(s) have no label among the given classes and are ignored.",
                before - rows.len()
            );
        }
        class_names
    }

    /// The error when no row is left.
    fn no_rows(&self, subset: Option<Subset>, total: usize, split: f64) -> Error {
        if let Some(s) = subset.filter(|_| total > 0) {
            return empty_subset(s, total, "rows", split);
        }
        let dropped = if self.validate_filenames {
            " after dropping missing or non-image files"
        } else {
            ""
        };
        Error::Empty {
            name: "dataframe",
            expected: format!(
                "rows naming image files in {}; none is left{dropped}",
                self.csv.display()
            ),
        }
    }

    fn log_found(&self, n: usize, num_classes: usize) {
        let validated = if self.validate_filenames {
            "validated"
        } else {
            "non-validated"
        };
        if self.class_mode.uses_classes() {
            log::info!("Found {n} {validated} image filenames belonging to {num_classes} classes.");
        } else {
            log::info!("Found {n} {validated} image filenames.");
        }
    }

    /// The labels of `rows` in the class mode.
    fn targets(&self, rows: &[Row], classes: &[Vec<usize>], num_classes: usize) -> Targets {
        let column = |j: usize| -> Array1<f64> { rows.iter().map(|r| r.targets[j]).collect() };
        match self.class_mode {
            ClassMode::Categorical => Targets::MultiHot {
                labels: classes.to_vec(),
                num_classes,
            },
            ClassMode::Binary | ClassMode::Sparse => {
                Targets::Index(classes.iter().map(|c| c[0]).collect())
            }
            ClassMode::Input => Targets::Input,
            ClassMode::None => Targets::None,
            ClassMode::Raw if self.y_cols.len() == 1 => Targets::Raw(DynArray::from(column(0))),
            ClassMode::Raw => {
                let flat = rows
                    .iter()
                    .flat_map(|r| r.targets.iter().copied())
                    .collect();
                let table = Array2::from_shape_vec((rows.len(), self.y_cols.len()), flat)
                    .expect("every row has one target per y_col");
                Targets::Raw(DynArray::from(table))
            }
            ClassMode::MultiOutput => Targets::MultiOutput(
                (0..self.y_cols.len())
                    .map(|j| DynArray::from(column(j)))
                    .collect(),
            ),
        }
    }

    /// The source over the rows served.
    fn source(
        self,
        rows: Vec<Row>,
        class_names: Vec<String>,
        subset: Option<Subset>,
    ) -> FileSource<CsvRows> {
        let mode = self.class_mode;
        let class_indices: BTreeMap<String, usize> = class_names
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        let classes: Vec<Vec<usize>> = rows
            .iter()
            .map(|r| r.labels.iter().map(|l| class_indices[l]).collect())
            .collect();
        let targets = self.targets(&rows, &classes, class_names.len());
        let sample_weight = self.weight_col.as_ref().map(|_| {
            DynArray::from(
                rows.iter()
                    .map(|r| r.weight.unwrap_or(1.0))
                    .collect::<Array1<f64>>(),
            )
        });
        let save_classes = classes
            .iter()
            .map(|c| class_folder(c, &class_names))
            .collect();
        let dir = self.directory();
        let mask_filenames: Vec<String> = rows.iter().filter_map(|r| r.mask.clone()).collect();
        let filenames: Vec<String> = rows.into_iter().map(|r| r.filename).collect();
        FileSource {
            paths: filenames.iter().map(|f| dir.join(f)).collect(),
            mask_paths: (self.mask_col.as_ref())
                .map(|_| mask_filenames.iter().map(|f| dir.join(f)).collect()),
            boxes: None,
            load: self.load,
            targets,
            sample_weight,
            save_classes,
            class_list: ClassList::new(class_names, mode),
            label_dtype: self.label_dtype,
            meta: CsvRows {
                filenames,
                mask_filenames,
                classes: if mode.uses_classes() {
                    classes
                } else {
                    Vec::new()
                },
                subset,
            },
        }
    }
}

/// Refuses a `mask_cval` no mask file can hold: masks from files are class ids of `u8` or
/// `u16` (a `u8` mask also needs it to be at most 255, checked with the mask).
fn check_file_mask_cval(cval: f64) -> Result<()> {
    if <u16 as MaskValue>::holds(cval) {
        return Ok(());
    }
    Err(Error::invalid(
        "mask_cval",
        cval,
        "a class id in 0..=65535 (masks read from files are uint8 or uint16)",
    ))
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

impl<O> DataFrameIterator<O> {
    /// The `x_col` values of the rows served, in CSV order (after dropping and splitting).
    pub fn filenames(&self) -> &[String] {
        &self.source.meta.filenames
    }
    /// The `mask_col` values of the rows served, in the order of
    /// [`filenames`](Self::filenames); empty without `mask_col`.
    pub fn mask_filenames(&self) -> &[String] {
        &self.source.meta.mask_filenames
    }
    /// The class indices of each row (one, or several for multi-label rows); empty for
    /// the modes without classes (input, raw, multi_output, None).
    pub fn classes(&self) -> &[Vec<usize>] {
        &self.source.meta.classes
    }
    /// The subset served, if any.
    pub fn subset(&self) -> Option<Subset> {
        self.source.meta.subset
    }
}
