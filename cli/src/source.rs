//! What `augflow export` reads: a folder streamed batch by batch through `DirectoryIterator`
//! (memory does not grow with the folder), or a `.npy`/`.npz` array held in memory.

use std::path::{Path, PathBuf};

use augflow::ImageDataGenerator;
use augflow::iterators::{
    ClassMode, DirectoryIterator, IteratorState, ResizeFilter, WHITE_LIST_FORMATS,
};

use super::export::{ExportArgs, Job, Stats};
use super::input::{
    ArrayKeys, Dataset, Images, fingerprint, is_array_file, load_array, load_image_files,
    with_images,
};
use super::preview::{fit_if_needed, needs_fit};
use super::{CliResult, fail};

/// The input: a folder streamed through `DirectoryIterator`, or an array held in memory.
pub(crate) enum Source {
    Folder(Folder),
    Array(Dataset),
}

impl Source {
    pub(crate) fn open(a: &ExportArgs, datagen: &ImageDataGenerator) -> CliResult<Source> {
        if a.input.is_dir() {
            if a.x_key.is_some() || a.y_key.is_some() || a.labels.is_some() {
                return fail(
                    "--x-key, --y-key and --labels apply to .npy/.npz inputs, not to a folder",
                );
            }
            return Ok(Source::Folder(Folder::open(&a.input, a.size, datagen)?));
        }
        if !is_array_file(&a.input) {
            return fail(format!(
                "{}: expected a folder or a .npy/.npz file",
                a.input.display()
            ));
        }
        let keys = ArrayKeys {
            x_key: a.x_key.clone(),
            y_key: a.y_key.clone(),
            labels: a.labels.clone(),
        };
        let d = load_array(&a.input, &keys)?;
        Ok(Source::Array(match a.size {
            Some((h, w)) => Dataset {
                images: d.images.resized(h, w),
                ..d
            },
            None => d,
        }))
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Source::Folder(f) => f.files.len(),
            Source::Array(d) => d.images.shape()[0],
        }
    }

    pub(crate) fn image_shape(&self) -> [usize; 3] {
        match self {
            Source::Folder(f) => [f.size.0, f.size.1, 3],
            Source::Array(d) => {
                let [_, h, w, c] = d.images.shape();
                [h, w, c]
            }
        }
    }

    pub(crate) fn value_scale(&self) -> f32 {
        match self {
            Source::Folder(_) => 1.0,
            Source::Array(d) => d.images.value_scale(),
        }
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        match self {
            Source::Folder(f) => f.fingerprint,
            Source::Array(d) => d.fingerprint,
        }
    }

    pub(crate) fn description(&self) -> &str {
        match self {
            Source::Folder(f) => &f.description,
            Source::Array(d) => &d.description,
        }
    }

    pub(crate) fn has_classes(&self) -> bool {
        match self {
            Source::Folder(f) => f.only.is_none(),
            Source::Array(d) => d.classes.is_some(),
        }
    }

    /// Fits the featurewise statistics when the configuration needs them. A folder is then
    /// read whole (the statistics are over every image).
    pub(crate) fn fit_if_needed(&self, datagen: &mut ImageDataGenerator) -> CliResult {
        match self {
            Source::Array(d) => fit_if_needed(datagen, &d.images),
            Source::Folder(f) if needs_fit(datagen) => {
                let x = load_image_files(&f.files, Some(f.size))?;
                fit_if_needed(datagen, &Images::U8(x))
            }
            Source::Folder(_) => Ok(()),
        }
    }

    /// Runs the job over this input's batches.
    pub(crate) fn export(
        self,
        job: &Job<'_>,
        datagen: &ImageDataGenerator,
        resume: Option<IteratorState>,
    ) -> CliResult<Stats> {
        match self {
            Source::Folder(f) => {
                let mut it = f.iterator(datagen, job.batch_size, job.seed)?;
                let classes = f.classes(&it);
                job.run(&mut it, classes.as_deref(), resume.as_ref())
            }
            Source::Array(d) => with_images!(d.images, x => {
                let mut it = datagen
                    .flow(x)
                    .batch_size(job.batch_size)
                    .shuffle(false)
                    .seed(job.seed)
                    .build()?;
                job.run(&mut it, d.classes.as_deref(), resume.as_ref())
            }),
        }
    }
}

/// A folder read batch by batch through `DirectoryIterator`: one sub-folder per class, or,
/// without class sub-folders holding images, the loose images of the folder, read as the one
/// class folder of its parent (and written without a class folder).
pub(crate) struct Folder {
    /// The folder `flow_from_directory` reads.
    root: PathBuf,
    /// For loose images: the input folder's name, the only class of `root`.
    only: Option<String>,
    /// Every image, in the iterator's order.
    files: Vec<PathBuf>,
    /// The size every image is resized to (`--size`, else the common size of the images).
    size: (usize, usize),
    description: String,
    fingerprint: u64,
}

impl Folder {
    fn open(
        dir: &Path,
        size: Option<(usize, usize)>,
        datagen: &ImageDataGenerator,
    ) -> CliResult<Folder> {
        let mut folder = match Folder::list(dir, None, datagen) {
            Ok(f) => f,
            // No class sub-folder, or none holds an image: the loose images of `dir`.
            Err(augflow::Error::Empty { .. }) => Folder::open_loose(dir, datagen)?,
            Err(e) => return Err(e.into()),
        };
        folder.size = match size {
            Some(s) => s,
            None => common_size(&folder.files)?,
        };
        Ok(folder)
    }

    fn open_loose(dir: &Path, datagen: &ImageDataGenerator) -> CliResult<Folder> {
        let none = || {
            super::CliError(format!(
                "no images in {}: expected one sub-folder per class holding image files ({})",
                dir.display(),
                WHITE_LIST_FORMATS.join(", ")
            ))
        };
        let full = dir
            .canonicalize()
            .map_err(|e| super::CliError(format!("cannot read folder {}: {e}", dir.display())))?;
        let (Some(parent), Some(name)) = (full.parent(), full.file_name()) else {
            return Err(none());
        };
        let name = name.to_string_lossy().into_owned();
        let mut f = match Folder::list(parent, Some(name), datagen) {
            Ok(f) => f,
            Err(augflow::Error::Empty { .. }) => return Err(none()),
            Err(e) => return Err(e.into()),
        };
        f.description = format!("{} ({} images)", dir.display(), f.files.len());
        Ok(f)
    }

    /// Lists the files the way the iterator will (a build at a placeholder size).
    fn list(
        root: &Path,
        only: Option<String>,
        datagen: &ImageDataGenerator,
    ) -> augflow::Result<Folder> {
        let mut folder = Folder {
            root: root.to_path_buf(),
            only,
            files: Vec::new(),
            size: (1, 1),
            description: String::new(),
            fingerprint: 0,
        };
        let it = folder.iterator(datagen, 1, 0)?;
        folder.files = it.filenames().iter().map(|f| root.join(f)).collect();
        folder.fingerprint = fingerprint(&folder.files, root);
        folder.description = format!(
            "{} ({} images in {} classes)",
            root.display(),
            folder.files.len(),
            it.num_classes()
        );
        Ok(folder)
    }

    /// The unshuffled iterator over the folder's images at `self.size`.
    fn iterator(
        &self,
        datagen: &ImageDataGenerator,
        batch_size: usize,
        seed: u64,
    ) -> augflow::Result<DirectoryIterator<f32>> {
        let b = datagen.flow_from_directory(&self.root);
        let b = match &self.only {
            Some(name) => b.classes([name.clone()]).class_mode(ClassMode::None),
            None => b.class_mode(ClassMode::Sparse),
        };
        b.target_size(self.size.0, self.size.1)
            .interpolation(ResizeFilter::Bilinear)
            .batch_size(batch_size)
            .shuffle(false)
            .seed(seed)
            .build()
    }

    /// The class name of each file, when the folder has class sub-folders.
    fn classes(&self, it: &DirectoryIterator<f32>) -> Option<Vec<String>> {
        self.only.is_none().then(|| {
            it.classes()
                .iter()
                .map(|&k| it.class_names()[k].clone())
                .collect()
        })
    }
}

/// The size all of `files` share, read from their headers; an error naming two files of
/// different sizes otherwise.
fn common_size(files: &[PathBuf]) -> CliResult<(usize, usize)> {
    let mut first: Option<(&PathBuf, u32, u32)> = None;
    for p in files {
        let (w, h) = image::image_dimensions(p)
            .or_else(|e| fail(format!("cannot read image {}: {e}", p.display())))?;
        match first {
            None => first = Some((p, w, h)),
            Some((fp, fw, fh)) if (fw, fh) != (w, h) => {
                return fail(format!(
                    "images have different sizes ({} is {fw}x{fh}, {} is {w}x{h}); pass --size H,W to resize them",
                    fp.display(),
                    p.display()
                ));
            }
            Some(_) => {}
        }
    }
    match first {
        Some((_, w, h)) => Ok((h as usize, w as usize)),
        None => fail("no images to read"),
    }
}
