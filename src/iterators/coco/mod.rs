//! `flow_from_coco`: batches of the images of a COCO detection file, each with its boxes
//! moved through its image's draw.

mod json;

pub use json::{Annotations as CocoAnnotations, ImageEntry as CocoImageEntry, read as read_coco};

use std::path::{Path, PathBuf};

use ndarray::{Array2, ArrayView2};

use super::decode::LoadOptions;
use super::files::{ClassList, ClassMode, FileSource, FileSpec, Targets, check_label_dtype};
use super::mask_files::image_size;
use super::resize_plan::ResizePlan;
use super::subset::split_rows;
use super::{BatchIterator, BatchOptions, IteratorBuilder, SourceSpec};
use crate::generator::ImageDataGenerator;
use crate::targets::{BoxFormat, PerSample, check_boxes};
use crate::{DType, Error, Result};

/// What [`ImageDataGenerator::flow_from_coco`] builds from: the image folder, the COCO file
/// and how images are loaded.
#[derive(Debug, Clone)]
pub struct CocoSpec {
    images_dir: PathBuf,
    annotations: PathBuf,
    include_crowd: bool,
    load: LoadOptions,
    label_dtype: DType,
}

/// What a COCO source knows besides its files: each image's file name and id, and each
/// class index's category id.
#[derive(Debug, Clone)]
pub struct CocoImages {
    filenames: Vec<String>,
    image_ids: Vec<i64>,
    category_ids: Vec<i64>,
}

/// Builds a [`CocoIterator`]; validated in [`build`](IteratorBuilder::build).
pub type CocoBuilder<O = f32> = IteratorBuilder<CocoSpec, O>;

/// Batches of the images of a COCO detection file with their boxes (see
/// [`ImageDataGenerator::flow_from_coco`]).
pub type CocoIterator<O = f32> = BatchIterator<FileSource<CocoImages>, O>;

impl ImageDataGenerator {
    /// Batches of the images listed in the COCO detection file `annotations_json` (its
    /// `images`, `annotations` and `categories`), read from `images_dir`, each batch's
    /// [`boxes`](super::Batch::boxes) holding every image's boxes moved through its draw.
    ///
    /// It is a file source of the batch engine, like `flow_from_dataframe` (one sample per
    /// entry of `images`, in the file's order; the same loading setters, seeds, subsets and
    /// guarantees), so boxes get exactly the draw their image gets.
    ///
    /// - **Boxes.** Each annotation's `bbox` (`coco`: `[x, y, width, height]` in the file's
    ///   pixels) is clipped to its image, then brought to `target_size` with the image (and
    ///   its `keep_aspect_ratio` crop: a box outside the crop is dropped), then moved through
    ///   the draw. They come out in the format of
    ///   [`box_options`](IteratorBuilder::box_options) (default `pascal_voc`), in pixels of
    ///   the batch image. Images without annotations have zero boxes. Crowd annotations
    ///   (`iscrowd` 1) are skipped unless [`include_crowd`](CocoBuilder::include_crowd).
    /// - **Labels** are contiguous class indices: the position of the box's category among
    ///   `categories` sorted by id, so they index a classifier's outputs directly.
    ///   [`category_ids`](CocoIterator::category_ids) maps them back to COCO ids and
    ///   [`class_names`](BatchIterator::class_names) to names. `y` is `None`.
    /// - **Errors** at `build`: bad JSON, an annotation whose `image_id` or `category_id` is
    ///   unknown, a `bbox` that is not four finite numbers with a positive width and height
    ///   or lies outside its image ([`Error::Format`], naming the annotation and value), a
    ///   listed image missing ([`Error::Io`], naming the file). In a batch: an image file
    ///   whose size differs from its declared `width` × `height` ([`Error::Format`]).
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, Sequence};
    ///
    /// let dir = tempfile::tempdir()?;
    /// image::GrayImage::new(40, 20).save(dir.path().join("a.png"))?;
    /// image::GrayImage::new(40, 20).save(dir.path().join("b.png"))?;
    /// let json = r#"{"images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 20},
    ///                           {"id": 2, "file_name": "b.png", "width": 40, "height": 20}],
    ///   "annotations": [{"id": 7, "image_id": 1, "bbox": [4, 2, 10, 6], "category_id": 18, "iscrowd": 0}],
    ///   "categories": [{"id": 18, "name": "dog"}, {"id": 3, "name": "car"}]}"#;
    /// std::fs::write(dir.path().join("train.json"), json)?;
    /// let datagen = ImageDataGenerator::builder().build()?;
    /// let it = datagen
    ///     .flow_from_coco(dir.path(), dir.path().join("train.json"))
    ///     .target_size(10, 20) // half size: boxes are halved with the images
    ///     .shuffle(false)
    ///     .build()?;
    /// assert_eq!(it.category_ids(), &[3, 18]); // class 1 is category 18, "dog"
    /// let boxes = it.get(0)?.boxes.unwrap();
    /// assert_eq!(boxes.boxes[0].row(0).to_vec(), [2.0, 1.0, 7.0, 4.0]); // pascal_voc
    /// assert_eq!(boxes.labels, [vec![1], vec![]]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flow_from_coco(
        &self,
        images_dir: impl AsRef<Path>,
        annotations_json: impl AsRef<Path>,
    ) -> CocoBuilder {
        let spec = CocoSpec {
            images_dir: images_dir.as_ref().to_path_buf(),
            annotations: annotations_json.as_ref().to_path_buf(),
            include_crowd: false,
            load: LoadOptions::new().target_size(256, 256),
            label_dtype: DType::F32,
        };
        IteratorBuilder::new(self, spec)
    }
}

impl FileSpec for CocoSpec {
    fn load_options_mut(&mut self) -> &mut LoadOptions {
        &mut self.load
    }
    /// Unused: a COCO iterator has no `y`, and box labels are `i64`.
    fn label_dtype_mut(&mut self) -> &mut DType {
        &mut self.label_dtype
    }
}

impl<O> CocoBuilder<O> {
    /// Keep crowd annotations (`iscrowd` 1) as boxes too (default false: skipped, as
    /// detection training usually does).
    pub fn include_crowd(mut self, on: bool) -> Self {
        self.spec.include_crowd = on;
        self
    }
}

impl SourceSpec for CocoSpec {
    type Source = FileSource<CocoImages>;

    fn into_source(
        self,
        datagen: &ImageDataGenerator,
        options: &BatchOptions,
    ) -> Result<(Self::Source, Option<Vec<usize>>)> {
        self.load.validate()?;
        check_label_dtype(self.label_dtype)?;
        options.box_options.validate()?;
        let coco = json::read(&self.annotations, self.include_crowd)?;
        if coco.images.is_empty() {
            return Err(Error::Empty {
                name: "images",
                expected: format!("at least one image in {}", self.annotations.display()),
            });
        }
        let paths = self.image_paths(&coco.images)?;
        let boxes = self.file_boxes(&coco, options.box_options.format)?;
        let split = datagen.config().validation_split;
        let members = split_rows(paths.len(), split, options.subset, None, None)?;
        let (ids, names): (Vec<i64>, Vec<String>) = coco.categories.into_iter().unzip();
        let source = FileSource {
            paths,
            load: self.load,
            targets: Targets::None,
            sample_weight: None,
            save_classes: Vec::new(),
            class_list: ClassList::new(names, ClassMode::None),
            label_dtype: self.label_dtype,
            mask_paths: None,
            boxes: Some(boxes),
            meta: CocoImages {
                filenames: coco.images.iter().map(|im| im.file_name.clone()).collect(),
                image_ids: coco.images.iter().map(|im| im.id).collect(),
                category_ids: ids,
            },
        };
        Ok((source, Some(members)))
    }

    fn size_parameter(&self) -> &'static str {
        "target_size"
    }
}

impl CocoSpec {
    /// The path of every image, each an existing file.
    fn image_paths(&self, images: &[json::ImageEntry]) -> Result<Vec<PathBuf>> {
        let mut paths = Vec::with_capacity(images.len());
        for (k, im) in images.iter().enumerate() {
            let p = self.images_dir.join(&im.file_name);
            if !p.is_file() {
                let why = format!(
                    "images[{k}] (id {}) of {} names this file, which does not exist",
                    im.id,
                    self.annotations.display()
                );
                return Err(Error::io(
                    p,
                    std::io::Error::new(std::io::ErrorKind::NotFound, why),
                ));
            }
            paths.push(p);
        }
        Ok(paths)
    }

    /// Every image's boxes in pixels of the batch image (resized as the image is), written
    /// in `format`, with their class indices.
    fn file_boxes(&self, coco: &json::Annotations, format: BoxFormat) -> Result<FileBoxes> {
        let n = coco.images.len();
        let (mut rows, mut labels, mut out_sizes) = (Vec::new(), Vec::new(), Vec::new());
        for (i, im) in coco.images.iter().enumerate() {
            let plan = ResizePlan::new(&self.load, im.size.0, im.size.1);
            let (th, tw) = plan.map_or(im.size, |p| (p.height, p.width));
            let mut values = Vec::new();
            let mut kept = Vec::new();
            for (b, &label) in coco.boxes[i].iter().zip(&coco.labels[i]) {
                // None: outside the kept crop.
                if let Some(c) = plan.map_or(Some(*b), |p| p.map_box(*b)) {
                    values.extend(
                        format
                            .write_corners(c, th as f64, tw as f64)
                            .map(|v| v as f32),
                    );
                    kept.push(label);
                }
            }
            rows.push(Array2::from_shape_vec((kept.len(), 4), values).expect("4 values a box"));
            labels.push(kept);
            out_sizes.push((th, tw));
        }
        let check = |b: ArrayView2<'_, f32>, i: usize| {
            let (h, w) = out_sizes[i];
            check_boxes(b, format, h, w, i)
        };
        Ok(FileBoxes {
            boxes: PerSample::new("boxes", rows, labels, n, check)?,
            sizes: coco.images.iter().map(|im| im.size).collect(),
        })
    }
}

/// Boxes given for image files: per image, the boxes in pixels of the batch image, and the
/// `(height, width)` the file was declared to have (they were scaled from it).
#[derive(Debug, Clone)]
pub(crate) struct FileBoxes {
    boxes: PerSample,
    sizes: Vec<(usize, usize)>,
}

impl FileBoxes {
    /// Image `i`'s boxes and labels, once its file `path` is found to have the declared size.
    pub(crate) fn get(&self, i: usize, path: &Path) -> Result<(ArrayView2<'_, f32>, &[i64])> {
        let (h, w) = image_size(path)?;
        let (dh, dw) = self.sizes[i];
        if (h, w) != (dh, dw) {
            return Err(Error::Format {
                path: path.to_path_buf(),
                message: format!(
                    "the image is {w}x{h} pixels (width x height) but its annotations declare \
                     {dw}x{dh}; its boxes would land in the wrong place"
                ),
            });
        }
        Ok(self.boxes.get(i))
    }

    /// A short description, for a configuration fingerprint.
    pub(crate) fn describe(&self) -> String {
        self.boxes.describe()
    }
}

impl<O> CocoIterator<O> {
    /// The `file_name` of every image, in the file's order; `Batch::index` indexes it.
    pub fn filenames(&self) -> &[String] {
        &self.source.meta.filenames
    }
    /// The COCO `id` of every image, in the same order.
    pub fn image_ids(&self) -> &[i64] {
        &self.source.meta.image_ids
    }
    /// The COCO category id of each class index (the labels of the boxes).
    pub fn category_ids(&self) -> &[i64] {
        &self.source.meta.category_ids
    }
}
