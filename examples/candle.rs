//! Batches into candle tensors with no conversion: `Batch::into_parts()` hands over the images
//! as one row-major `Vec<f32>` with its shape, and the labels in the dtype asked for
//! (`label_dtype(DType::I64)` for class ids, or the dtype of the array given to `flow`), which
//! is what `candle_core::Tensor::from_vec` takes.
//!
//! Two iterators: `flow_from_directory` over a folder of generated PNGs with `int64` class
//! ids, and `flow` over an in-memory array with `uint32` labels and `f32` sample weights. Every
//! tensor is checked against the batch it came from (shape, dtype and every value), so the
//! example fails loudly if the contract breaks.
//!
//! Run: `cargo run --example candle`

use std::error::Error;
use std::path::Path;

use augflow::iterators::{Batch, ClassMode};
use augflow::{DType, ImageDataGenerator, Sequence};
use candle_core::{DType as CandleDType, Device, Tensor};
use ndarray::{Array1, Array4};

type Res<T> = Result<T, Box<dyn Error>>;

/// The tensors of one batch, as a training step would receive them.
struct Tensors {
    x: Tensor,
    y: Tensor,
    weight: Option<Tensor>,
}

/// `into_parts` then `Tensor::from_vec`: no element is converted or copied on augflow's side.
/// `L` is the labels' element type, the one the iterator was asked for.
fn to_tensors<L>(batch: Batch<f32>, device: &Device) -> Res<Tensors>
where
    L: augflow::array::Element + candle_core::WithDType,
{
    let parts = batch.into_parts();
    let x = Tensor::from_vec(parts.x, &parts.x_shape, device)?;
    let y = parts.y.ok_or("the iterator was given labels")?;
    let y_shape = y.shape().to_vec();
    let y = Tensor::from_vec(y.into_vec::<L>()?, y_shape, device)?;
    let weight = match parts.sample_weight {
        Some(w) => {
            let shape = w.shape().to_vec();
            Some(Tensor::from_vec(w.into_vec::<f32>()?, shape, device)?)
        }
        None => None,
    };
    Ok(Tensors { x, y, weight })
}

/// Checks that `t` holds exactly the batch `b` (kept aside before `into_parts`).
fn check<L>(b: &Batch<f32>, t: &Tensors, y_dtype: CandleDType) -> Res<()>
where
    L: augflow::array::Element + candle_core::WithDType + std::fmt::Debug,
{
    assert_eq!(t.x.dims(), b.x.shape(), "x shape");
    assert_eq!(t.x.dtype(), CandleDType::F32, "x dtype");
    let x: Vec<f32> = t.x.flatten_all()?.to_vec1()?;
    assert_eq!(x, b.x.iter().copied().collect::<Vec<_>>(), "x values");
    let want_sum: f64 = b.x.iter().map(|&v| f64::from(v)).sum();
    let sum =
        t.x.to_dtype(CandleDType::F64)?
            .sum_all()?
            .to_scalar::<f64>()?;
    assert!(
        (sum - want_sum).abs() <= 1e-9 * want_sum.abs().max(1.0),
        "x sum"
    );

    let y = b.y.as_ref().ok_or("labels")?;
    assert_eq!(t.y.dims(), y.shape(), "y shape");
    assert_eq!(t.y.dtype(), y_dtype, "y dtype");
    let got: Vec<L> = t.y.flatten_all()?.to_vec1()?;
    assert_eq!(
        got,
        y.view::<L>()?.iter().copied().collect::<Vec<_>>(),
        "y values"
    );

    match (&t.weight, &b.sample_weight) {
        (Some(tw), Some(bw)) => {
            let got: Vec<f32> = tw.to_vec1()?;
            assert_eq!(got, bw.view::<f32>()?.iter().copied().collect::<Vec<_>>());
        }
        (None, None) => {}
        _ => panic!("sample weights lost or invented"),
    }
    Ok(())
}

/// Two class folders of 20x16 PNGs: `cats` (3 images), `dogs` (4 images).
fn write_folders(root: &Path) -> Res<()> {
    for (class, n) in [("cats", 3_u8), ("dogs", 4)] {
        std::fs::create_dir_all(root.join(class))?;
        for i in 0..n {
            let img = image::RgbImage::from_fn(20, 16, |c, r| {
                image::Rgb([i * 30, (c * 12 + r * 7) as u8, (c * r * 5 % 256) as u8])
            });
            img.save(root.join(class).join(format!("{i}.png")))?;
        }
    }
    Ok(())
}

/// Class folders to `(x: f32 (n, 12, 12, 3), y: i64 (n,))`, shuffled and augmented.
fn from_directory(device: &Device) -> Res<usize> {
    let dir = tempfile::tempdir()?;
    write_folders(dir.path())?;
    let datagen = ImageDataGenerator::builder()
        .rotation_range(15.0)
        .horizontal_flip(true)
        .rescale(1.0 / 255.0)
        .build()?;
    let mut it = datagen
        .flow_from_directory(dir.path())
        .target_size(12, 12)
        .class_mode(ClassMode::Sparse)
        .label_dtype(DType::I64)
        .batch_size(3)
        .seed(11)
        .build()?;
    let mut seen = Vec::new();
    for b in 0..it.len() {
        let batch = it.get(b)?;
        let t = to_tensors::<i64>(batch.clone(), device)?;
        check::<i64>(&batch, &t, CandleDType::I64)?;
        // The class ids are the folders' indices, sample by sample.
        let ids: Vec<i64> = t.y.to_vec1()?;
        for (&i, &id) in batch.index.iter().zip(&ids) {
            assert_eq!(id, it.classes()[i] as i64, "class id of file {i}");
        }
        seen.extend(ids);
    }
    it.on_epoch_end();
    seen.sort_unstable();
    assert_eq!(seen, [0, 0, 0, 1, 1, 1, 1], "one epoch, every file once");
    Ok(it.len())
}

/// An in-memory `u8` dataset with `u32` labels and `f32` weights, channels first for candle's
/// convolutions: `(x: f32 (n, 3, 10, 8), y: u32 (n,), w: f32 (n,))`.
fn from_array(device: &Device) -> Res<usize> {
    let n = 10;
    let x = Array4::from_shape_fn((n, 10, 8, 3), |(i, r, c, k)| {
        (i * 9 + r * 5 + c * 3 + k) as u8
    });
    let y = Array1::from_iter((0..n as u32).map(|i| i % 4));
    let w = Array1::from_iter((0..n).map(|i| 0.5 + i as f32 / 10.0));
    let datagen = ImageDataGenerator::builder()
        .zoom_range(0.1)
        .vertical_flip(true)
        .data_format(augflow::DataFormat::ChannelsFirst)
        .build()?;
    let it = datagen
        .flow(
            x.permuted_axes([0, 3, 1, 2])
                .as_standard_layout()
                .into_owned(),
        )
        .y(y)
        .sample_weight(w)
        .batch_size(4)
        .seed(3)
        .build()?;
    for b in 0..it.len() {
        let batch = it.get(b)?;
        let t = to_tensors::<u32>(batch.clone(), device)?;
        check::<u32>(&batch, &t, CandleDType::U32)?;
        assert_eq!(t.x.dims()[1..], [3, 10, 8], "channels first");
        // Labels are usable as candle indices as they come: one-hot by gathering rows.
        let eye = Tensor::eye(4, CandleDType::F32, device)?;
        let one_hot = eye.index_select(&t.y, 0)?;
        assert_eq!(one_hot.dims(), [batch.len(), 4]);
        assert_eq!(one_hot.sum_all()?.to_scalar::<f32>()?, batch.len() as f32);
    }
    Ok(it.len())
}

fn main() -> Res<()> {
    let device = Device::Cpu;
    let dir_batches = from_directory(&device)?;
    let array_batches = from_array(&device)?;
    println!(
        "candle: {dir_batches} directory batches (i64 class ids) and {array_batches} array \
         batches (u32 labels, f32 weights) matched their tensors"
    );
    Ok(())
}
