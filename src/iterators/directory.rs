//! `DirectoryIterator`: Keras' `flow_from_directory`, one sub-folder per class, decoded and
//! augmented in parallel, deterministic for a seed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::decode::{LoadOptions, WHITE_LIST_FORMATS, is_whitelisted};
use super::files::{ClassList, ClassMode, FileSource, FileSpec, Targets, check_label_dtype};
use super::subset::{empty_subset, split_range};
use super::{BatchIterator, BatchOptions, IteratorBuilder, SourceSpec, Subset};
use crate::DType;
use crate::generator::ImageDataGenerator;
use crate::{Error, Result};

/// What [`ImageDataGenerator::flow_from_directory`] builds from: the folder, its classes,
/// and how files are loaded.
#[derive(Debug, Clone)]
pub struct DirectorySpec {
    directory: PathBuf,
    classes: Option<Vec<String>>,
    class_mode: ClassMode,
    follow_links: bool,
    load: LoadOptions,
    label_dtype: DType,
}

/// What a folder of class sub-folders knows besides its files.
#[derive(Debug, Clone)]
pub struct ClassFolders {
    filenames: Vec<PathBuf>,
    classes: Vec<usize>,
}

/// Builds a [`DirectoryIterator`]: Keras' `flow_from_directory` arguments, validated in
/// [`build`](IteratorBuilder::build).
pub type DirectoryBuilder<O = f32> = IteratorBuilder<DirectorySpec, O>;

/// Keras' `DirectoryIterator`, made reproducible and parallel: batches of images read from
/// class sub-folders, decoded and resized in parallel straight into the batch.
///
/// The transform of file `i` (an index into [`filenames`](BatchIterator::filenames)) in
/// epoch `e` is a pure function of `(seed, e, i)`; batches are bit-identical for any thread
/// count. A file that cannot be read or decoded makes the batch that holds it an error
/// naming the file.
pub type DirectoryIterator<O = f32> = BatchIterator<FileSource<ClassFolders>, O>;

impl ImageDataGenerator {
    /// Keras' `flow_from_directory(directory)`: batches of the images under `directory`, one
    /// sub-folder per class (walked recursively), resized to `target_size`.
    ///
    /// ```
    /// use augflow::iterators::ClassMode;
    /// use augflow::{ImageDataGenerator, Sequence};
    ///
    /// let dir = tempfile::tempdir()?;
    /// for (class, n) in [("cats", 3), ("dogs", 2)] {
    ///     std::fs::create_dir(dir.path().join(class))?;
    ///     for i in 0..n {
    ///         let img = image::RgbImage::from_pixel(20, 16, image::Rgb([i * 40, 0, 0]));
    ///         img.save(dir.path().join(class).join(format!("{i}.png")))?;
    ///     }
    /// }
    /// let datagen = ImageDataGenerator::builder().rescale(1.0 / 255.0).build()?;
    /// let it = datagen
    ///     .flow_from_directory(dir.path())
    ///     .target_size(8, 10)
    ///     .class_mode(ClassMode::Sparse)
    ///     .batch_size(4)
    ///     .shuffle(false)
    ///     .build()?;
    /// assert_eq!(it.classes(), &[0, 0, 0, 1, 1]);
    /// assert_eq!(it.class_indices()["dogs"], 1);
    /// let b = it.get(1)?;
    /// assert_eq!(b.x.shape(), &[1, 8, 10, 3]);
    /// assert_eq!(b.y.unwrap().view::<f32>()?.as_slice().unwrap(), &[1.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flow_from_directory(&self, directory: impl AsRef<Path>) -> DirectoryBuilder {
        let spec = DirectorySpec {
            directory: directory.as_ref().to_path_buf(),
            classes: None,
            class_mode: ClassMode::Categorical,
            follow_links: false,
            load: LoadOptions::new().target_size(256, 256),
            label_dtype: DType::F32,
        };
        IteratorBuilder::new(self, spec)
    }
}

impl FileSpec for DirectorySpec {
    fn load_options_mut(&mut self) -> &mut LoadOptions {
        &mut self.load
    }
    fn label_dtype_mut(&mut self) -> &mut DType {
        &mut self.label_dtype
    }
}

impl<O> DirectoryBuilder<O> {
    /// The class sub-folders to use; their order defines the class indices. By default every
    /// sub-folder, sorted by name.
    pub fn classes<S: Into<String>>(mut self, classes: impl IntoIterator<Item = S>) -> Self {
        self.spec.classes = Some(classes.into_iter().map(Into::into).collect());
        self
    }

    /// What `y` holds (default categorical); `Raw` and `MultiOutput` are for dataframes.
    pub fn class_mode(mut self, mode: ClassMode) -> Self {
        self.spec.class_mode = mode;
        self
    }

    /// Follow symbolic links to folders inside the class folders (default false). A class
    /// folder that is itself a link is always followed, as in Keras.
    pub fn follow_links(mut self, on: bool) -> Self {
        self.spec.follow_links = on;
        self
    }
}

impl SourceSpec for DirectorySpec {
    type Source = FileSource<ClassFolders>;

    /// Lists the files and checks every argument.
    ///
    /// Errors: an invalid argument ([`Error::InvalidParameter`]); a missing or unreadable
    /// folder ([`Error::Io`]); no class sub-folder, or no image in them, or an empty subset
    /// ([`Error::Empty`]).
    fn into_source(
        self,
        datagen: &ImageDataGenerator,
        options: &BatchOptions,
    ) -> Result<(Self::Source, Option<Vec<usize>>)> {
        self.load.validate()?;
        check_label_dtype(self.label_dtype)?;
        let class_names = self.class_names()?;
        let listed: Vec<Vec<PathBuf>> = class_names
            .par_iter()
            .map(|c| list_class(&self.directory, c, self.follow_links))
            .collect::<Result<_>>()?;
        let (filenames, classes) = self.split(listed, &class_names, datagen, options)?;
        log::info!(
            "Found {} images belonging to {} classes.",
            filenames.len(),
            class_names.len()
        );
        Ok((self.source(filenames, classes, class_names), None))
    }

    fn size_parameter(&self) -> &'static str {
        "target_size"
    }
}

impl DirectorySpec {
    /// The class names, in index order, after checking the mode and the folder.
    fn class_names(&self) -> Result<Vec<String>> {
        let mode = self.class_mode;
        if matches!(mode, ClassMode::Raw | ClassMode::MultiOutput) {
            return Err(Error::invalid(
                "class_mode",
                mode,
                "one of categorical, binary, sparse, input, None for flow_from_directory (raw and multi_output need a dataframe)",
            ));
        }
        let dir = &self.directory;
        let meta = std::fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
        if !meta.is_dir() {
            return Err(Error::invalid(
                "directory",
                dir.display(),
                "a folder holding one sub-folder per class",
            ));
        }
        let class_names = match &self.classes {
            Some(list) => checked_classes(dir, list.clone())?,
            None => class_folders(dir)?,
        };
        if mode == ClassMode::Binary && class_names.len() != 2 {
            return Err(Error::invalid(
                "class_mode",
                format!("binary with {} classes {class_names:?}", class_names.len()),
                "exactly 2 classes (use categorical or sparse for more)",
            ));
        }
        Ok(class_names)
    }

    /// The files the subset serves and their class indices: spec §14.3 splits each class,
    /// its first files being validation.
    fn split(
        &self,
        listed: Vec<Vec<PathBuf>>,
        class_names: &[String],
        datagen: &ImageDataGenerator,
        options: &BatchOptions,
    ) -> Result<(Vec<PathBuf>, Vec<usize>)> {
        let total: usize = listed.iter().map(Vec::len).sum();
        if total == 0 {
            return Err(Error::Empty {
                name: "directory",
                expected: format!(
                    "image files ({}) in the class folders {class_names:?} of {}; found none",
                    WHITE_LIST_FORMATS.join(", "),
                    self.directory.display()
                ),
            });
        }
        let split = datagen.config().validation_split;
        let mut filenames = Vec::new();
        let mut classes = Vec::new();
        for (k, files) in listed.into_iter().enumerate() {
            let range = split_range(files.len(), split, options.subset);
            for f in files.into_iter().skip(range.start).take(range.len()) {
                filenames.push(f);
                classes.push(k);
            }
        }
        if filenames.is_empty() {
            let subset = options.subset.unwrap_or(Subset::Training);
            return Err(empty_subset(subset, total, "images", split));
        }
        if filenames.iter().any(|f| {
            f.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tiff"))
        }) {
            log::warn!(
                "Using \".tiff\" files with multiple bands will cause distortion. Please verify your output."
            );
        }
        Ok((filenames, classes))
    }

    /// The source over the listed files, with their labels.
    fn source(
        self,
        filenames: Vec<PathBuf>,
        classes: Vec<usize>,
        class_names: Vec<String>,
    ) -> FileSource<ClassFolders> {
        let mode = self.class_mode;
        let targets = match mode {
            ClassMode::Categorical => Targets::MultiHot {
                labels: classes.iter().map(|&k| vec![k]).collect(),
                num_classes: class_names.len(),
            },
            ClassMode::Binary | ClassMode::Sparse => Targets::Index(classes.clone()),
            ClassMode::Input => Targets::Input,
            _ => Targets::None,
        };
        FileSource {
            paths: filenames.iter().map(|f| self.directory.join(f)).collect(),
            load: self.load,
            targets,
            sample_weight: None,
            save_classes: classes.iter().map(|&k| class_names[k].clone()).collect(),
            class_list: ClassList::new(class_names, mode),
            label_dtype: self.label_dtype,
            mask_paths: None,
            boxes: None,
            meta: ClassFolders { filenames, classes },
        }
    }
}

/// Checks a user-given class list: no duplicates, each an existing folder.
fn checked_classes(dir: &Path, list: Vec<String>) -> Result<Vec<String>> {
    if list.is_empty() {
        return Err(Error::invalid(
            "classes",
            "[]",
            "at least one class sub-folder name",
        ));
    }
    for (i, c) in list.iter().enumerate() {
        if list[..i].contains(c) {
            return Err(Error::invalid(
                "classes",
                format!("{list:?}"),
                format!("distinct class names ({c:?} appears twice)"),
            ));
        }
        let p = dir.join(c);
        if !p.is_dir() {
            return Err(Error::invalid(
                "classes",
                format!("{c:?}"),
                format!(
                    "the name of a sub-folder of {} ({} is not a folder)",
                    dir.display(),
                    p.display()
                ),
            ));
        }
    }
    Ok(list)
}

/// The class sub-folders of `dir` (links to folders included), sorted by name: the classes
/// [`flow_from_directory`](ImageDataGenerator::flow_from_directory) uses when none are given.
///
/// Errors: [`Error::Io`] when `dir` cannot be read; [`Error::Empty`] when it has no
/// sub-folder; [`Error::InvalidParameter`] for a folder name that is not UTF-8.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// for class in ["dogs", "cats"] {
///     std::fs::create_dir(dir.path().join(class))?;
/// }
/// std::fs::write(dir.path().join("notes.txt"), "not a class")?;
/// assert_eq!(augflow::iterators::class_folders(dir.path())?, ["cats", "dogs"]);
/// let empty = tempfile::tempdir()?;
/// assert!(augflow::iterators::class_folders(empty.path()).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn class_folders(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry.path().is_dir() {
            let name = entry.file_name().into_string().map_err(|n| {
                Error::invalid(
                    "directory",
                    format!("a class folder named {n:?}"),
                    "class folder names in UTF-8",
                )
            })?;
            names.push(name);
        }
    }
    names.sort();
    if names.is_empty() {
        return Err(Error::Empty {
            name: "directory",
            expected: format!(
                "one sub-folder per class in {}; it has none (put each class's images in its own sub-folder)",
                dir.display()
            ),
        });
    }
    Ok(names)
}

/// The image files of one class, as paths relative to `dir` (`"<class>/<sub>/<name>"`), in
/// Keras' order: folders sorted by path, then files sorted by name (spec §14.3).
fn list_class(dir: &Path, class: &str, follow_links: bool) -> Result<Vec<PathBuf>> {
    let root = dir.join(class);
    let mut found: Vec<(OsString, OsString)> = Vec::new();
    for entry in walkdir::WalkDir::new(&root).follow_links(follow_links) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(&root).to_path_buf();
            Error::io(path, e.into())
        })?;
        let ft = entry.file_type();
        // A link to a file is a file (os.walk lists it); a link to a folder that is not
        // followed is skipped.
        let is_file = ft.is_file() || (ft.is_symlink() && entry.path().is_file());
        if !is_file || !is_whitelisted(entry.path()) {
            continue;
        }
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        let parent = rel.parent().unwrap_or(Path::new("")).as_os_str().to_owned();
        found.push((parent, entry.file_name().to_owned()));
    }
    // Byte order of the folder path (as Python's sorted on strings), not Path's
    // component order: "a-b" < "a/b" here.
    found.sort();
    Ok(found
        .into_iter()
        .map(|(parent, name)| PathBuf::from(parent).join(name))
        .collect())
}

impl<O> DirectoryIterator<O> {
    /// The images served, relative to the directory (`"cats/sub/001.png"`), in class order
    /// then Keras' path order.
    pub fn filenames(&self) -> &[PathBuf] {
        &self.source.meta.filenames
    }
    /// The class index of each file of [`filenames`](Self::filenames).
    pub fn classes(&self) -> &[usize] {
        &self.source.meta.classes
    }
}
