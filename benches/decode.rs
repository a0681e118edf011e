//! Images per second through `DirectoryIterator`: 256 JPEGs of 320×240 (noise + gradients,
//! generated once into a temp folder) decoded, resized to 224×224 and standardized
//! (`rescale = 1/255`), in batches of 32, on rayon pools of 1 and 2 threads.
//!
//! Variants: nearest resize (Keras' default), bilinear resize, and bilinear plus a typical
//! augmentation (rotation, shift, zoom, flip). A decode-only baseline (the `image` crate's
//! JPEG decoder on the same files, one thread) shows how much of the time is decoding.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use augflow::iterators::{DirectoryIterator, ResizeFilter};
use augflow::rng::{sample_rng, unit_f64};
use augflow::{FillMode, ImageDataGenerator, Sequence};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use image::{Rgb, RgbImage};

const N: usize = 256;
const CLASSES: usize = 4;

fn write_jpegs(root: &Path) {
    let mut rng = sample_rng(7, 0, 0);
    for i in 0..N {
        let class = root.join(format!("class{}", i % CLASSES));
        std::fs::create_dir_all(&class).unwrap();
        let img = RgbImage::from_fn(320, 240, |x, y| {
            let n = (unit_f64(&mut rng) * 48.0) as u32;
            Rgb([
                ((x * 255 / 319 + n) % 256) as u8,
                ((y * 255 / 239 + n) % 256) as u8,
                (((x + y + i as u32 * 9) / 3 + n) % 256) as u8,
            ])
        });
        img.save(class.join(format!("{i:04}.jpg"))).unwrap();
    }
}

fn epoch(it: &DirectoryIterator) -> usize {
    let mut n = 0;
    for i in 0..it.len() {
        let b = it.get(i).unwrap();
        n += b.len();
        black_box(&b.x);
    }
    n
}

fn directory(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    write_jpegs(dir.path());
    let plain = ImageDataGenerator::builder()
        .rescale(1.0 / 255.0)
        .build()
        .unwrap();
    let augment = ImageDataGenerator::builder()
        .rotation_range(20.0)
        .width_shift_range(0.1)
        .height_shift_range(0.1)
        .zoom_range(0.1)
        .horizontal_flip(true)
        .fill_mode(FillMode::Nearest)
        .rescale(1.0 / 255.0)
        .build()
        .unwrap();
    let variants = [
        ("nearest", &plain, ResizeFilter::Nearest),
        ("bilinear", &plain, ResizeFilter::Bilinear),
        ("bilinear+augment", &augment, ResizeFilter::Bilinear),
    ];

    let mut group = c.benchmark_group("directory 256 jpeg 320x240 -> 224x224, batch 32");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));

    let files: Vec<_> = walk(dir.path());
    group.bench_function("baseline: decode only (image crate), 1 thread", |b| {
        b.iter(|| {
            for f in &files {
                black_box(image::open(f).unwrap());
            }
        })
    });

    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for (name, datagen, filter) in variants {
            let it = datagen
                .flow_from_directory(dir.path())
                .target_size(224, 224)
                .interpolation(filter)
                .batch_size(32)
                .seed(1)
                .build()
                .unwrap();
            assert_eq!(it.num_samples(), N);
            group.bench_function(
                BenchmarkId::new(name, format!("{threads} thread(s)")),
                |b| b.iter(|| pool.install(|| epoch(&it))),
            );
        }
    }
    group.finish();
}

fn walk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    v.sort();
    v
}

criterion_group!(benches, directory);
criterion_main!(benches);
