//! Data-parallel training's input side, the way `torchrun` launches it: N worker processes,
//! each told its `RANK` and the `WORLD_SIZE` in its environment, each iterating its own shard
//! of every epoch. The launcher then checks that the shards' samples, padding removed, are
//! exactly the samples of the unsharded epoch, bit for bit.
//!
//! `cargo run --release --example distributed -- [WORLD_SIZE]` (default 4). Run as a worker
//! (`RANK` set), it prints one line per sample: `epoch index padding hash`.

use std::collections::BTreeMap;
use std::process::Command;

use augflow::iterators::NumpyArrayIterator;
use augflow::{ImageDataGenerator, Sequence};
use ndarray::Array4;

const SAMPLES: usize = 203;
const EPOCHS: u64 = 2;

/// The same dataset and configuration in every process; only the shard differs.
fn iterator(shard: Option<(usize, usize)>) -> augflow::Result<NumpyArrayIterator<u8>> {
    let datagen = ImageDataGenerator::builder()
        .rotation_range(20.0)
        .zoom_range(0.1)
        .horizontal_flip(true)
        .rescale(1.0 / 255.0)
        .build()?;
    let x = Array4::from_shape_fn((SAMPLES, 24, 24, 3), |(i, r, c, k)| {
        (i * 7 + r * 3 + c * 5 + k * 11) as u8
    });
    let mut b = datagen.flow(x).batch_size(16).seed(2024);
    if let Some((world, rank)) = shard {
        b = b.shard(world, rank);
    }
    b.build()
}

/// `(epoch, index)` → a hash of the sample's bits, with whether it was padding.
type Samples = Vec<(u64, usize, bool, u64)>;

fn samples(it: &mut NumpyArrayIterator<u8>) -> augflow::Result<Samples> {
    let mut out = Vec::new();
    for _ in 0..EPOCHS {
        for b in 0..it.len() {
            let batch = it.get(b)?;
            let real = batch.len() - it.batch_padding(b)?;
            for (k, &i) in batch.index.iter().enumerate() {
                let bits = batch.x.index_axis(ndarray::Axis(0), k);
                let hash = bits.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, v| {
                    (h ^ v.to_bits() as u64).wrapping_mul(0x0100_0000_01b3)
                });
                out.push((batch.epoch, i, k >= real, hash));
            }
        }
        it.on_epoch_end();
    }
    Ok(out)
}

fn env(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn worker(rank: usize, world: usize) -> augflow::Result<()> {
    for (e, i, pad, h) in samples(&mut iterator(Some((world, rank)))?)? {
        println!("{e} {i} {} {h:016x}", u8::from(pad));
    }
    Ok(())
}

fn launch(world: usize) -> Result<(), Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let children: Vec<_> = (0..world)
        .map(|rank| {
            Command::new(&exe)
                .env("RANK", rank.to_string())
                .env("WORLD_SIZE", world.to_string())
                .output()
        })
        .collect::<Result<_, _>>()?;
    let mut union: BTreeMap<(u64, usize), u64> = BTreeMap::new();
    let mut per_rank = Vec::new();
    for (rank, out) in children.iter().enumerate() {
        if !out.status.success() {
            return Err(format!(
                "rank {rank} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        let text = String::from_utf8(out.stdout.clone())?;
        per_rank.push(text.lines().count());
        for line in text.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            let (e, i, pad, h) = (
                f[0].parse()?,
                f[1].parse()?,
                f[2] == "1",
                u64::from_str_radix(f[3], 16)?,
            );
            if !pad && union.insert((e, i), h).is_some() {
                return Err(format!("sample {i} of epoch {e} served by two ranks").into());
            }
        }
    }
    let whole: BTreeMap<(u64, usize), u64> = samples(&mut iterator(None)?)?
        .into_iter()
        .map(|(e, i, _, h)| ((e, i), h))
        .collect();
    if union != whole {
        return Err("the shards' samples differ from the unsharded epochs".into());
    }
    if per_rank.windows(2).any(|w| w[0] != w[1]) {
        return Err(format!("unequal shard lengths {per_rank:?}").into());
    }
    println!(
        "{world} ranks × {} samples: disjoint, covering {} samples of {EPOCHS} epochs, identical bits",
        per_rank[0],
        whole.len()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let (Some(rank), Some(world)) = (env("RANK"), env("WORLD_SIZE")) {
        return Ok(worker(rank, world)?);
    }
    let world = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(4);
    launch(world)
}
