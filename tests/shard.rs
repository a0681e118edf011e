//! Shards and resumable state: the identities data-parallel training and preemption rely on.
//! Shards are disjoint and cover the epoch, every sample's bits are those of the unsharded
//! epoch, `pad` gives every shard as many batches; a run stopped anywhere and restored from
//! its serialized state finishes with the bits of an uninterrupted run.

use std::collections::BTreeMap;

use augflow::iterators::{Endless, IteratorState, NumpyArrayIterator, ShardRemainder, Subset};
use augflow::{Error, ImageDataGenerator, Sequence};
use ndarray::{Array1, Array3, Array4, Axis};
use proptest::prelude::*;

fn datagen() -> ImageDataGenerator {
    ImageDataGenerator::builder()
        .rotation_range(30.0)
        .zoom_range(0.2)
        .horizontal_flip(true)
        .validation_split(0.3)
        .build()
        .unwrap()
}

fn images(n: usize) -> Array4<u8> {
    Array4::from_shape_fn((n, 4, 5, 2), |(i, r, c, k)| {
        (i * 37 + r * 11 + c * 5 + k * 3) as u8
    })
}

type It = NumpyArrayIterator<u8>;

fn build(
    n: usize,
    batch: usize,
    subset: Option<Subset>,
    shard: Option<(usize, usize, ShardRemainder)>,
) -> It {
    let y = Array1::from_iter((0..n).map(|i| i as i64));
    let mut b = datagen().flow(images(n)).y(y).batch_size(batch).seed(17);
    if let Some(s) = subset {
        b = b.subset(s).ignore_class_split(true);
    }
    if let Some((count, index, policy)) = shard {
        b = b.shard(count, index).shard_remainder(policy);
    }
    b.build().unwrap()
}

/// Every sample of one epoch: index → image, with the padding samples apart.
fn epoch_samples(it: &It) -> (Vec<(usize, Array3<f32>)>, Vec<usize>) {
    let (mut real, mut pad) = (Vec::new(), Vec::new());
    for b in 0..it.len() {
        let batch = it.get(b).unwrap();
        let padding = it.batch_padding(b).unwrap();
        let keep = batch.len() - padding;
        for (k, &i) in batch.index.iter().enumerate() {
            if k < keep {
                real.push((i, batch.x.index_axis(Axis(0), k).to_owned()));
            } else {
                pad.push(i);
            }
        }
    }
    (real, pad)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn shards_are_disjoint_cover_the_epoch_and_keep_its_bits(
        n in 1usize..40,
        batch in 1usize..7,
        count in 1usize..9,
        policy in prop_oneof![Just(ShardRemainder::Pad), Just(ShardRemainder::Drop), Just(ShardRemainder::Uneven)],
        subset in prop_oneof![Just(None), Just(Some(Subset::Training)), Just(Some(Subset::Validation))],
    ) {
        let members = (n as f64 * 0.3) as usize;
        let served = match subset { None => n, Some(Subset::Validation) => members, Some(Subset::Training) => n - members };
        prop_assume!(served > 0 && (policy == ShardRemainder::Pad || served >= count));
        let whole = build(n, batch, subset, None);
        let (all, none) = epoch_samples(&whole);
        prop_assert!(none.is_empty());
        let reference: BTreeMap<usize, Array3<f32>> = all.into_iter().collect();

        let mut union = BTreeMap::new();
        let mut lengths = Vec::new();
        for k in 0..count {
            let shard = build(n, batch, subset, Some((count, k, policy)));
            lengths.push((shard.len(), shard.num_samples()));
            let (real, pad) = epoch_samples(&shard);
            for i in pad {
                prop_assert!(reference.contains_key(&i), "padding repeats a served sample");
            }
            for (i, img) in real {
                prop_assert_eq!(&img, &reference[&i], "sample {} differs in shard {}", i, k);
                prop_assert!(union.insert(i, img).is_none(), "sample {} served twice", i);
            }
        }
        match policy {
            ShardRemainder::Drop => {
                prop_assert_eq!(union.len(), served / count * count);
                prop_assert!(union.keys().all(|i| reference.contains_key(i)));
            }
            _ => prop_assert_eq!(union.keys().collect::<Vec<_>>(), reference.keys().collect::<Vec<_>>()),
        }
        if policy != ShardRemainder::Uneven {
            prop_assert!(lengths.windows(2).all(|w| w[0] == w[1]), "equal lengths: {:?}", lengths);
        } else {
            let sizes: Vec<usize> = lengths.iter().map(|l| l.1).collect();
            prop_assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
        }
    }

    #[test]
    fn a_run_stopped_anywhere_resumes_with_the_same_bits(
        n in 1usize..30,
        batch in 1usize..6,
        stop in 0usize..40,
        shard in prop_oneof![Just(None), (2usize..4).prop_map(|c| Some((c, 1, ShardRemainder::Pad)))],
    ) {
        let run = |it: &mut It, steps: usize| -> Vec<augflow::Batch> {
            Endless::new(it).take(steps).map(|b| b.unwrap()).collect()
        };
        let total = 3 * build(n, batch, None, shard).len();
        let stop = stop % (total + 1);
        let mut straight = build(n, batch, None, shard);
        let expected = run(&mut straight, total);

        let mut first = build(n, batch, None, shard);
        let mut endless = Endless::new(&mut first);
        let mut got: Vec<augflow::Batch> = endless.by_ref().take(stop).map(|b| b.unwrap()).collect();
        let json = serde_json::to_string(&endless.sequence().state(endless.position())).unwrap();

        let mut fresh = build(n, batch, None, shard);
        let state: IteratorState = serde_json::from_str(&json).unwrap();
        let position = fresh.restore(&state).unwrap();
        got.extend(Endless::at(&mut fresh, position).take(total - stop).map(|b| b.unwrap()));
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn a_state_of_another_configuration_is_refused_naming_every_difference() {
    let it = build(10, 3, None, None);
    let state = it.state(1);
    let mut other = datagen()
        .flow(images(12))
        .batch_size(4)
        .seed(17)
        .build()
        .unwrap();
    let e = other.restore(&state).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, Error::InvalidParameter { name: "state", .. }),
        "{text}"
    );
    for key in [
        "batch_size (state 3, here 4)",
        "samples (state 10, here 12)",
        "source",
    ] {
        assert!(text.contains(key), "{key} missing in: {text}");
    }
    assert!(!text.contains("shuffle"), "{text}");
    assert_eq!(
        text.matches("batch_size (").count(),
        1,
        "each entry once: {text}"
    );
}

#[test]
fn shard_arguments_are_checked_by_name() {
    let e = datagen().flow(images(4)).shard(2, 2).build().unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "shard index",
                ..
            }
        ),
        "{e}"
    );
    let e = datagen().flow(images(4)).shard(0, 0).build().unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "num_shards",
                ..
            }
        ),
        "{e}"
    );
    let e = datagen()
        .flow(images(3))
        .shard(4, 0)
        .shard_remainder(ShardRemainder::Drop)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "num_shards",
                ..
            }
        ),
        "{e}"
    );
    // Pad serves every shard even with more shards than samples.
    let it = datagen().flow(images(3)).shard(4, 3).build().unwrap();
    assert_eq!((it.num_samples(), it.batch_padding(0).unwrap()), (1, 1));
}

#[test]
fn a_prefetched_run_resumes_where_the_consumer_stopped_not_where_the_workers_were() {
    use augflow::Prefetch;
    let shard = Some((2, 0, ShardRemainder::Pad));
    let straight: Vec<augflow::Batch> = {
        let mut pf = Prefetch::new(build(23, 2, None, shard), 3, 5).unwrap();
        let mut all: Vec<_> = pf.epoch().unwrap().map(|b| b.unwrap()).collect();
        pf.on_epoch_end();
        all.extend(pf.epoch().unwrap().map(|b| b.unwrap()));
        all
    };
    let per_epoch = straight.len() / 2;
    for stop in [0, 1, 3, per_epoch - 1] {
        let mut pf = Prefetch::new(build(23, 2, None, shard), 3, 5).unwrap();
        let mut epoch = pf.epoch().unwrap();
        let mut got: Vec<_> = epoch.by_ref().take(stop).map(|b| b.unwrap()).collect();
        let position = epoch.position();
        drop(epoch); // the workers had built batches past `stop`: they must not count
        let json = serde_json::to_string(&pf.state(position)).unwrap();

        let mut fresh = Prefetch::new(build(23, 2, None, shard), 2, 2).unwrap();
        let state: IteratorState = serde_json::from_str(&json).unwrap();
        let from = fresh.restore(&state).unwrap();
        assert_eq!(from, stop);
        got.extend(fresh.epoch_from(from).unwrap().map(|b| b.unwrap()));
        fresh.on_epoch_end();
        got.extend(fresh.epoch().unwrap().map(|b| b.unwrap()));
        assert_eq!(got, straight, "stopped after {stop}");
    }
}
