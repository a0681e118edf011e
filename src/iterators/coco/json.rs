//! Reading a COCO detection file: its images, their boxes (`bbox` `[x, y, width, height]` in
//! the file's pixels) and categories, checked, with errors that name the entry and value.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::{Error, Result};

#[derive(Deserialize)]
struct CocoFile {
    images: Vec<CocoImage>,
    #[serde(default)]
    annotations: Vec<CocoAnnotation>,
    #[serde(default)]
    categories: Vec<CocoCategory>,
}

#[derive(Deserialize)]
struct CocoImage {
    id: i64,
    file_name: String,
    width: u64,
    height: u64,
}

#[derive(Deserialize)]
struct CocoAnnotation {
    id: i64,
    image_id: i64,
    bbox: Vec<f64>,
    category_id: i64,
    #[serde(default)]
    iscrowd: u8,
}

#[derive(Deserialize)]
struct CocoCategory {
    id: i64,
    name: String,
}

/// One image of the file: its id, file name and declared `(height, width)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageEntry {
    /// The image's COCO `id`.
    pub id: i64,
    /// Its `file_name`, relative to the images folder.
    pub file_name: String,
    /// The `(height, width)` it declares.
    pub size: (usize, usize),
}

/// A COCO file, checked: every image with its boxes as pixel corners `[x0, y0, x1, y1]`
/// clipped to the image, and their class indices (positions in `categories`, sorted by id).
#[derive(Debug, Clone)]
pub struct Annotations {
    /// The images, in the file's order.
    pub images: Vec<ImageEntry>,
    /// Image `i`'s boxes, pixel corners `[x0, y0, x1, y1]` of the file's pixels.
    pub boxes: Vec<Vec<[f64; 4]>>,
    /// Image `i`'s class indices, one per box.
    pub labels: Vec<Vec<i64>>,
    /// `(id, name)` of each category, by id: class index `k` is `categories[k]`.
    pub categories: Vec<(i64, String)>,
}

/// Reads and checks the COCO detection file at `path`, as
/// [`flow_from_coco`](crate::ImageDataGenerator::flow_from_coco) does; crowd annotations
/// (`iscrowd` 1) are skipped unless `include_crowd`. Errors ([`Error::Io`], [`Error::Format`])
/// name the file, and the entry and value at fault.
///
/// ```
/// use augflow::iterators::read_coco;
///
/// let dir = tempfile::tempdir()?;
/// let json = r#"{"images": [{"id": 4, "file_name": "a.png", "width": 40, "height": 20}],
///   "annotations": [{"id": 1, "image_id": 4, "bbox": [30, 2, 20, 6], "category_id": 9}],
///   "categories": [{"id": 9, "name": "cat"}]}"#;
/// std::fs::write(dir.path().join("train.json"), json)?;
/// let coco = read_coco(dir.path().join("train.json"), false)?;
/// assert_eq!(coco.images[0].size, (20, 40));
/// assert_eq!(coco.boxes[0], [[30.0, 2.0, 40.0, 8.0]]); // clipped to the image
/// assert_eq!(coco.labels[0], [0]);
/// std::fs::write(dir.path().join("bad.json"), "{}")?;
/// assert!(read_coco(dir.path().join("bad.json"), false).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read(path: impl AsRef<Path>, include_crowd: bool) -> Result<Annotations> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let file: CocoFile = serde_json::from_slice(&bytes).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        message: format!("not a COCO detection file: {e}"),
    })?;
    let bad = |message: String| Error::Format {
        path: path.to_path_buf(),
        message,
    };
    let images = images(file.images).map_err(bad)?;
    let categories = categories(file.categories).map_err(bad)?;
    let class_of: HashMap<i64, i64> = (categories.iter().enumerate())
        .map(|(k, (id, _))| (*id, k as i64))
        .collect();
    let index_of: HashMap<i64, usize> = (images.iter().enumerate())
        .map(|(k, im)| (im.id, k))
        .collect();
    let mut boxes = vec![Vec::new(); images.len()];
    let mut labels = vec![Vec::new(); images.len()];
    for (k, a) in file.annotations.iter().enumerate() {
        if a.iscrowd != 0 && !include_crowd {
            continue;
        }
        let name = format!("annotations[{k}] (id {})", a.id);
        let &i = index_of.get(&a.image_id).ok_or_else(|| {
            bad(format!(
                "{name}: image_id {} is not an image id",
                a.image_id
            ))
        })?;
        let &class = class_of.get(&a.category_id).ok_or_else(|| {
            bad(format!(
                "{name}: category_id {} is not a category id",
                a.category_id
            ))
        })?;
        let corners =
            box_corners(&a.bbox, images[i].size).map_err(|m| bad(format!("{name}: {m}")))?;
        boxes[i].push(corners);
        labels[i].push(class);
    }
    Ok(Annotations {
        images,
        boxes,
        labels,
        categories,
    })
}

/// The images, with distinct ids and a size of at least one pixel.
fn images(list: Vec<CocoImage>) -> std::result::Result<Vec<ImageEntry>, String> {
    let mut seen = HashMap::new();
    let mut out = Vec::with_capacity(list.len());
    for (k, im) in list.into_iter().enumerate() {
        if let Some(first) = seen.insert(im.id, k) {
            return Err(format!(
                "images[{k}] has id {}, as images[{first}]; ids must be distinct",
                im.id
            ));
        }
        let size = (usize::try_from(im.height), usize::try_from(im.width));
        let (Ok(h @ 1..), Ok(w @ 1..)) = size else {
            return Err(format!(
                "images[{k}] (id {}) is {}x{} (width x height); an image holds at least one pixel",
                im.id, im.width, im.height
            ));
        };
        out.push(ImageEntry {
            id: im.id,
            file_name: im.file_name,
            size: (h, w),
        });
    }
    Ok(out)
}

/// The categories sorted by id, ids distinct.
fn categories(mut list: Vec<CocoCategory>) -> std::result::Result<Vec<(i64, String)>, String> {
    list.sort_by_key(|c| c.id);
    if let Some(pair) = list.windows(2).find(|p| p[0].id == p[1].id) {
        return Err(format!(
            "categories {:?} and {:?} share id {}; ids must be distinct",
            pair[0].name, pair[1].name, pair[0].id
        ));
    }
    Ok(list.into_iter().map(|c| (c.id, c.name)).collect())
}

/// The pixel corners of a COCO `bbox` `[x, y, width, height]`, clipped to an image of
/// `(h, w)`: four finite numbers, a positive width and height, something inside the image.
fn box_corners(bbox: &[f64], (h, w): (usize, usize)) -> std::result::Result<[f64; 4], String> {
    let &[x, y, bw, bh] = bbox else {
        return Err(format!(
            "bbox {bbox:?} has {} numbers; expected [x, y, width, height]",
            bbox.len()
        ));
    };
    if !bbox.iter().all(|v| v.is_finite()) || bw <= 0.0 || bh <= 0.0 {
        return Err(format!(
            "bbox {bbox:?}; expected finite [x, y, width, height] with width > 0 and height > 0"
        ));
    }
    let (wf, hf) = (w as f64, h as f64);
    let c = [x.max(0.0), y.max(0.0), (x + bw).min(wf), (y + bh).min(hf)];
    if c[2] <= c[0] || c[3] <= c[1] {
        return Err(format!(
            "bbox {bbox:?} lies outside its image of {w}x{h} (width x height)"
        ));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_clipped_to_their_image_and_bad_ones_named() {
        assert_eq!(
            box_corners(&[2.0, 3.0, 4.0, 5.0], (10, 10)),
            Ok([2.0, 3.0, 6.0, 8.0])
        );
        assert_eq!(
            box_corners(&[-1.0, 8.0, 4.0, 5.0], (10, 10)),
            Ok([0.0, 8.0, 3.0, 10.0])
        );
        for bad in [
            vec![0.0, 0.0, -2.0, 3.0],
            vec![0.0, 0.0, f64::NAN, 3.0],
            vec![0.0, 0.0, 3.0],
            vec![11.0, 0.0, 3.0, 3.0],
        ] {
            let err = box_corners(&bad, (10, 10)).unwrap_err();
            assert!(err.contains("bbox"), "{err}");
        }
    }
}
