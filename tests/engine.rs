//! The batch engine's rules, checked on every source: `drop_remainder`, the first failing
//! sample by position, batch memory that cannot be had, and a source written by a user.

use std::path::Path;

use augflow::iterators::{BatchSource, ClassMode, IteratorBuilder, Labels};
use augflow::{DataFormat, Error, ImageDataGenerator, Result, Sequence};
use image::{Rgb, RgbImage};
use ndarray::{Array1, Array4, ArrayView3};

fn plain() -> ImageDataGenerator {
    ImageDataGenerator::builder().build().unwrap()
}

/// Ten images, the first pixel of image `i` being `i`.
fn numbered(n: usize) -> Array4<u8> {
    Array4::from_shape_fn((n, 4, 5, 3), |(i, r, c, k)| {
        if (r, c, k) == (0, 0, 0) { i as u8 } else { 7 }
    })
}

/// Seven images in two class folders and a CSV file naming them.
fn files(dir: &Path) -> std::path::PathBuf {
    let mut csv = String::from("filename,class\n");
    for (class, n) in [("a", 4), ("b", 3)] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..n {
            RgbImage::from_pixel(6, 5, Rgb([i as u8 * 30, 9, 9]))
                .save(dir.join(class).join(format!("{i}.png")))
                .unwrap();
            csv.push_str(&format!("{class}/{i}.png,{class}\n"));
        }
    }
    let path = dir.join("labels.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

/// The sizes of the batches of one epoch.
fn sizes<S: Sequence<Item = augflow::Batch<f32>>>(s: &S) -> Vec<usize> {
    (0..s.len()).map(|i| s.get(i).unwrap().len()).collect()
}

#[test]
fn drop_remainder_drops_the_short_batch_of_every_iterator() {
    let datagen = plain();
    let keep = datagen.flow(numbered(10)).batch_size(4).build().unwrap();
    let drop = datagen
        .flow(numbered(10))
        .batch_size(4)
        .drop_remainder(true)
        .build()
        .unwrap();
    assert_eq!(sizes(&keep), [4, 4, 2]);
    assert_eq!(sizes(&drop), [4, 4]);
    assert!(matches!(
        drop.get(2),
        Err(Error::IndexOutOfRange { index: 2, len: 2 })
    ));

    let dir = tempfile::tempdir().unwrap();
    let csv = files(dir.path());
    let folder = datagen
        .flow_from_directory(dir.path())
        .target_size(5, 6)
        .batch_size(3)
        .drop_remainder(true)
        .build()
        .unwrap();
    assert_eq!(sizes(&folder), [3, 3]);
    let frame = datagen
        .flow_from_dataframe(&csv)
        .directory(dir.path())
        .class_mode(ClassMode::Sparse)
        .target_size(5, 6)
        .batch_size(2)
        .drop_remainder(true)
        .build()
        .unwrap();
    assert_eq!(sizes(&frame), [2, 2, 2]);
}

#[test]
fn drop_remainder_keeps_the_order_and_bits_of_the_full_batches() {
    let datagen = ImageDataGenerator::builder()
        .rotation_range(30.0)
        .build()
        .unwrap();
    let build = |drop| {
        datagen
            .flow(numbered(10))
            .batch_size(3)
            .seed(5)
            .drop_remainder(drop)
            .build()
            .unwrap()
    };
    let (keep, drop) = (build(false), build(true));
    for i in 0..drop.len() {
        assert_eq!(keep.get(i).unwrap(), drop.get(i).unwrap());
    }
}

#[test]
fn drop_remainder_without_one_full_batch_is_refused_by_name() {
    let e = plain()
        .flow(numbered(3))
        .batch_size(4)
        .drop_remainder(true)
        .build()
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidParameter { name: "drop_remainder", value, .. } if value.contains("3 samples")),
        "{e}"
    );
}

#[test]
fn the_error_of_a_batch_is_its_first_failing_sample_by_position() {
    // Samples 1 and 3 fail; sample 1 fails slowly, so in time sample 3 fails first.
    let datagen = ImageDataGenerator::builder()
        .preprocessing_function(|x: ndarray::ArrayViewMut3<'_, f32>| {
            let id = x[[0, 0, 0]] as u32;
            if id == 1 {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            match id {
                1 | 3 => Err(format!("sample {id} refused").into()),
                _ => Ok(()),
            }
        })
        .build()
        .unwrap();
    let it = datagen
        .flow(numbered(5))
        .batch_size(5)
        .shuffle(false)
        .build()
        .unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(5)
        .build()
        .unwrap();
    for _ in 0..3 {
        let e = pool.install(|| it.get(0)).unwrap_err();
        assert!(e.to_string().contains("sample 1 refused"), "{e}");
    }
}

#[test]
fn a_batch_too_large_for_memory_is_an_error_naming_target_size() {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path());
    let e = plain()
        .flow_from_directory(dir.path())
        .target_size(100_000, 100_000)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "target_size",
                ..
            }
        ),
        "{e}"
    );
    let e = plain()
        .flow_from_directory(dir.path())
        .target_size(usize::MAX / 2, 3)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "target_size",
                ..
            }
        ),
        "{e}"
    );
}

/// A user's source: flat images whose value is the sample index, labelled with it.
#[derive(Clone)]
struct Flat(usize);

impl BatchSource for Flat {
    type Pixel = u8;
    type Scratch = Vec<u8>;
    fn num_samples(&self) -> usize {
        self.0
    }
    fn image_shape(&self, format: DataFormat) -> [usize; 3] {
        format.image_shape(3, 2, 1)
    }
    fn new_scratch(&self) -> Vec<u8> {
        Vec::new()
    }
    fn with_image<R>(
        &self,
        i: usize,
        _: DataFormat,
        buf: &mut Vec<u8>,
        f: impl FnOnce(ArrayView3<'_, u8>) -> Result<R>,
    ) -> Result<R> {
        buf.clear();
        buf.resize(6, i as u8);
        f(ArrayView3::from_shape((3, 2, 1), buf).unwrap())
    }
    fn labels(&self, index: &[usize]) -> Result<Labels> {
        let y: Array1<i64> = index.iter().map(|&i| i as i64).collect();
        Ok(Labels {
            y: Some(y.into()),
            ..Labels::default()
        })
    }
}

#[test]
fn a_users_source_gets_order_subsets_and_options_from_the_engine() {
    let datagen = ImageDataGenerator::builder()
        .validation_split(0.5)
        .build()
        .unwrap();
    let it = IteratorBuilder::new(&datagen, Flat(7))
        .batch_size(2)
        .seed(3)
        .build()
        .unwrap();
    let mut seen = Vec::new();
    for b in it.epoch() {
        let b = b.unwrap();
        let y = b.y.unwrap().into_array::<i64>().unwrap();
        for (k, &i) in b.index.iter().enumerate() {
            assert_eq!(b.x[[k, 0, 0, 0]], i as f32);
            assert_eq!(y[[k]], i as i64);
        }
        seen.extend(b.index);
    }
    assert_ne!(seen, (0..7).collect::<Vec<_>>(), "shuffled");
    seen.sort();
    assert_eq!(seen, (0..7).collect::<Vec<_>>());
    let one = IteratorBuilder::new(&datagen, Flat(7))
        .output::<f64>()
        .batch_size(7)
        .build()
        .unwrap();
    assert_eq!(one.get(0).unwrap().x.shape(), &[7, 3, 2, 1]);
    let val = IteratorBuilder::new(&datagen, Flat(7))
        .subset(augflow::Subset::Validation)
        .build()
        .unwrap();
    assert_eq!(val.members(), &[0, 1, 2]);
}

#[test]
fn class_labels_come_in_the_dtype_asked_for() {
    use augflow::DType;
    let dir = tempfile::tempdir().unwrap();
    let csv = files(dir.path());
    let folder = |mode, dtype| {
        plain()
            .flow_from_directory(dir.path())
            .class_mode(mode)
            .label_dtype(dtype)
            .target_size(5, 6)
            .batch_size(7)
            .shuffle(false)
            .build()
    };
    let ids = folder(ClassMode::Sparse, DType::I64)
        .unwrap()
        .get(0)
        .unwrap()
        .y
        .unwrap();
    assert_eq!(ids.into_vec::<i64>().unwrap(), [0, 0, 0, 0, 1, 1, 1]);
    let ids = folder(ClassMode::Binary, DType::U32)
        .unwrap()
        .get(0)
        .unwrap()
        .y
        .unwrap();
    assert_eq!(ids.into_vec::<u32>().unwrap(), [0, 0, 0, 0, 1, 1, 1]);
    let hot = folder(ClassMode::Categorical, DType::I32)
        .unwrap()
        .get(0)
        .unwrap()
        .y
        .unwrap();
    assert_eq!((hot.dtype(), hot.shape()), (DType::I32, &[7, 2][..]));
    let default = folder(ClassMode::Sparse, DType::F32)
        .unwrap()
        .get(0)
        .unwrap()
        .y
        .unwrap();
    assert_eq!(default.dtype(), DType::F32);
    let e = folder(ClassMode::Sparse, DType::Bool).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "label_dtype",
                ..
            }
        ),
        "{e}"
    );
    let frame = plain()
        .flow_from_dataframe(&csv)
        .directory(dir.path())
        .class_mode(ClassMode::Sparse)
        .label_dtype(DType::I64)
        .target_size(5, 6)
        .build()
        .unwrap();
    assert_eq!(frame.get(0).unwrap().y.unwrap().dtype(), DType::I64);
}

/// Collects every log message, so a test can check what a user is told.
struct Collect(std::sync::Mutex<Vec<String>>);
impl log::Log for Collect {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        self.0.lock().unwrap().push(r.args().to_string());
    }
    fn flush(&self) {}
}
static LOGS: Collect = Collect(std::sync::Mutex::new(Vec::new()));

#[test]
fn channels_last_data_under_channels_first_is_reported() {
    let _ = log::set_logger(&LOGS);
    log::set_max_level(log::LevelFilter::Warn);
    let datagen = ImageDataGenerator::builder()
        .data_format(DataFormat::ChannelsFirst)
        .build()
        .unwrap();
    datagen
        .flow(Array4::<u8>::zeros((4, 32, 32, 3)))
        .build()
        .unwrap();
    let logs = LOGS.0.lock().unwrap().clone();
    assert!(
        logs.iter()
            .any(|l| l.contains("channels_last") && l.contains("(32 channels)")),
        "{logs:?}"
    );
}
