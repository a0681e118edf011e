//! `NumpyArrayIterator::get` on the standard workload: one batch of 32 random `u8` images
//! 224×224×3 → `f32` with rotation ±20°, width/height shift ±10 %, shear ±10°, zoom ±10 %,
//! horizontal flip, nearest fill and ×1/255, at 1 and 2 rayon threads, beside the floor (a
//! plain `u8 → f32 ×1/255` copy of the same batch into a new `Array4`) on the same pool.
//! The `f16` output (computed in `f32`, then rounded) is measured too.
//!
//! ```sh
//! cargo bench --bench iterator
//! ```

use std::hint::black_box;
use std::time::Duration;

use augflow::Sequence;
use augflow_cli::workload::{floor_copy, random_images, standard_generator};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const BATCH: usize = 32;
const SIDE: usize = 224;

fn batch_get(c: &mut Criterion) {
    let x = random_images(BATCH, SIDE);
    let datagen = standard_generator().expect("the standard generator is valid");
    let flow = || datagen.flow(x.clone()).batch_size(BATCH).seed(1);
    let it = flow().build().expect("valid flow");
    let it16 = flow().output::<half::f16>().build().expect("valid flow");
    let mut group = c.benchmark_group("batch of 32 u8 224x224x3");
    group.throughput(Throughput::Elements(BATCH as u64));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        group.bench_function(
            format!("floor u8->f32 x1/255 copy, {threads} threads"),
            |b| pool.install(|| b.iter(|| black_box(floor_copy(black_box(&x), BATCH)))),
        );
        group.bench_function(
            format!("get -> f32, standard augmentation, {threads} threads"),
            |b| pool.install(|| b.iter(|| black_box(it.get(0).expect("batch 0")))),
        );
        group.bench_function(
            format!("get -> f16, standard augmentation, {threads} threads"),
            |b| pool.install(|| b.iter(|| black_box(it16.get(0).expect("batch 0")))),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = batch_get
}
criterion_main!(benches);
