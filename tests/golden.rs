//! Golden batches: the bits of fixed-seed epochs of every iterator, hashed, compared with the
//! hashes recorded in `tests/data/golden_batches.txt`.
//!
//! The hashes were recorded before the batch engine was refactored (commit a71a2ed), so a
//! refactor that changes one bit of one batch (an image, a label, an index, an epoch) fails
//! here. When a change is *meant* to alter batches, rerun with `AUGFLOW_WRITE_GOLDEN=1` to
//! record the new hashes, and say why in the commit.

use std::collections::BTreeMap;
use std::path::Path;

use augflow::iterators::{Batch, BatchElement, ClassMode, Subset};
use augflow::{DataFormat, DynArray, FillMode, Geometry, ImageDataGenerator, Kernel, Sequence};
use image::{Rgb, RgbImage};
use ndarray::{Array1, Array4};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/golden_batches.txt");

/// FNV-1a, 64 bits: stable across platforms and releases, unlike `DefaultHasher`.
struct Fnv(u64);
impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 = (self.0 ^ x as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
}

fn hash_dyn(h: &mut Fnv, a: &Option<DynArray>) {
    match a {
        None => h.u64(u64::MAX),
        Some(a) => {
            // Debug prints every value exactly (shortest round-trip form) with dtype and shape.
            h.bytes(format!("{a:?}").as_bytes());
        }
    }
}

/// One hash over every field of every batch of `epochs` epochs.
fn hash_epochs<O, S>(seq: &mut S, epochs: u64) -> String
where
    O: BatchElement + Into<f64> + Copy,
    S: Sequence<Item = Batch<O>>,
{
    let mut h = Fnv::new();
    for _ in 0..epochs {
        for i in 0..seq.len() {
            let b = seq.get(i).unwrap();
            h.bytes(format!("{:?}", b.x.shape()).as_bytes());
            for v in b.x.iter() {
                h.u64((*v).into().to_bits());
            }
            hash_dyn(&mut h, &b.y);
            hash_dyn(&mut h, &b.sample_weight);
            for e in &b.extras {
                hash_dyn(&mut h, &Some(e.clone()));
            }
            for &i in &b.index {
                h.u64(i as u64);
            }
            h.u64(b.epoch);
        }
        seq.on_epoch_end();
    }
    format!("{:016x}", h.0)
}

fn augmenting(geometry: Geometry, format: DataFormat) -> ImageDataGenerator {
    ImageDataGenerator::builder()
        .rotation_range(30.0)
        .width_shift_range(0.15)
        .height_shift_range(0.1)
        .shear_range(8.0)
        .zoom_range(0.2)
        .channel_shift_range(20.0)
        .brightness_range(0.7, 1.3)
        .horizontal_flip(true)
        .vertical_flip(true)
        .fill_mode(FillMode::Reflect)
        .rescale(1.0 / 255.0)
        .geometry(geometry)
        // The Keras cases record Keras' bits: the exact kernel; the corrected ones the fast.
        .kernel(match geometry {
            Geometry::Keras => Kernel::Exact,
            Geometry::Corrected => Kernel::Fast,
        })
        .data_format(format)
        .validation_split(0.25)
        .build()
        .unwrap()
}

/// `n` images of 20×37 with a texture that makes every warp visible.
fn images(n: usize, format: DataFormat) -> Array4<u8> {
    let (h, w, c) = (20, 37, 3);
    let hwc = Array4::from_shape_fn((n, h, w, c), |(i, y, x, k)| {
        ((i * 31 + y * 7 + x * 13 + k * 50 + (x * y) % 11) % 256) as u8
    });
    match format {
        DataFormat::ChannelsLast => hwc,
        DataFormat::ChannelsFirst => hwc
            .permuted_axes([0, 3, 1, 2])
            .as_standard_layout()
            .to_owned(),
    }
}

fn numpy_cases(out: &mut BTreeMap<String, String>) {
    let labels = Array1::from_iter((0..22).map(|i| (i % 3) as i64));
    let weights = Array1::from_iter((0..22).map(|i| i as f32 * 0.5));
    for (gname, geometry) in [
        ("corrected", Geometry::Corrected),
        ("keras", Geometry::Keras),
    ] {
        for (fname, format) in [
            ("last", DataFormat::ChannelsLast),
            ("first", DataFormat::ChannelsFirst),
        ] {
            let datagen = augmenting(geometry, format);
            let mut it = datagen
                .flow(images(22, format))
                .y(labels.clone())
                .sample_weight(weights.clone())
                .batch_size(5)
                .seed(7)
                .build()
                .unwrap();
            out.insert(format!("numpy/{gname}/{fname}"), hash_epochs(&mut it, 2));
        }
    }
    let datagen = augmenting(Geometry::Corrected, DataFormat::ChannelsLast);
    for subset in [Subset::Training, Subset::Validation] {
        let mut it = datagen
            .flow(images(22, DataFormat::ChannelsLast))
            .y(labels.clone())
            .extra(weights.clone())
            .subset(subset)
            .augment_validation(true)
            .batch_size(4)
            .seed(11)
            .build()
            .unwrap();
        out.insert(format!("numpy/subset/{subset:?}"), hash_epochs(&mut it, 2));
    }
    let mut it = datagen
        .flow(images(9, DataFormat::ChannelsLast))
        .batch_size(4)
        .shuffle(false)
        .seed(3)
        .output::<half::f16>()
        .build()
        .unwrap();
    out.insert("numpy/f16".into(), hash_epochs(&mut it, 1));
    let mut it = datagen
        .flow(images(9, DataFormat::ChannelsLast))
        .batch_size(4)
        .seed(3)
        .output::<f64>()
        .build()
        .unwrap();
    out.insert("numpy/f64".into(), hash_epochs(&mut it, 1));
}

fn write_images(dir: &Path) {
    for (class, n) in [("cats", 5), ("dogs", 4)] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..n {
            let img = RgbImage::from_fn(23, 17, |x, y| {
                Rgb([
                    (i * 40 + x * 3) as u8,
                    (y * 11 + x * 5) as u8,
                    ((x * y) % 256) as u8,
                ])
            });
            img.save(dir.join(class).join(format!("{i}.png"))).unwrap();
        }
    }
}

fn file_cases(out: &mut BTreeMap<String, String>) {
    let dir = tempfile::tempdir().unwrap();
    write_images(dir.path());
    let datagen = augmenting(Geometry::Corrected, DataFormat::ChannelsLast);
    for (name, subset) in [("all", None), ("training", Some(Subset::Training))] {
        let mut b = datagen
            .flow_from_directory(dir.path())
            .target_size(16, 21)
            .batch_size(3)
            .seed(5);
        if let Some(s) = subset {
            b = b.subset(s);
        }
        let mut it = b.build().unwrap();
        out.insert(format!("directory/{name}"), hash_epochs(&mut it, 2));
    }
    let csv = dir.path().join("labels.csv");
    let mut body = String::from("filename,class,w\n");
    for (class, n) in [("cats", 5), ("dogs", 4)] {
        for i in 0..n {
            body.push_str(&format!("{class}/{i}.png,{class},{}\n", i as f64 + 0.5));
        }
    }
    std::fs::write(&csv, body).unwrap();
    for mode in [ClassMode::Categorical, ClassMode::Sparse] {
        let mut it = datagen
            .flow_from_dataframe(&csv)
            .directory(dir.path())
            .y_col("class")
            .weight_col("w")
            .class_mode(mode)
            .target_size(12, 15)
            .batch_size(4)
            .seed(9)
            .build()
            .unwrap();
        out.insert(format!("dataframe/{mode}"), hash_epochs(&mut it, 2));
    }
}

#[test]
fn batches_match_the_recorded_hashes() {
    let mut got = BTreeMap::new();
    numpy_cases(&mut got);
    file_cases(&mut got);
    let text: String = got.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
    if std::env::var_os("AUGFLOW_WRITE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(GOLDEN).expect("tests/data/golden_batches.txt");
    let want: BTreeMap<&str, &str> = want.lines().filter_map(|l| l.split_once(' ')).collect();
    let changed: Vec<&String> = got
        .iter()
        .filter(|(k, v)| want.get(k.as_str()) != Some(&v.as_str()))
        .map(|(k, _)| k)
        .collect();
    assert!(changed.is_empty(), "the batches of {changed:?} changed");
    assert_eq!(want.len(), got.len(), "cases recorded vs run");
}
