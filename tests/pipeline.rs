//! Behaviour of `augflow::array` and `augflow::pipeline` a user relies on: NumPy files in and
//! out, numpy_input_fn order and errors (spec §16), user functions (spec §17), prefetch.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use augflow::array::{DType, DynArray, read_npy, read_npz, write_npy, write_npz};
use augflow::pipeline::{MapSequence, Prefetch, UserFn, numpy_input_fn};
use augflow::{Error, Result, Sequence};
use ndarray::{ArrayD, IxDyn, array};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

// ---------------------------------------------------------------------------------------
// .npy / .npz, checked against files written by NumPy (tests/data/make_fixtures.py)

#[test]
fn reads_every_dtype_from_a_numpy_savez_file() {
    let d = read_npz(data("all_dtypes.npz")).unwrap();
    assert_eq!(d.len(), DType::ALL.len());
    for dtype in DType::ALL {
        let a = &d[dtype.name()];
        assert_eq!(a.dtype(), dtype, "{dtype}");
        assert_eq!(a.shape(), &[2, 3], "{dtype}");
    }
    assert_eq!(
        d["bool"].to_vec::<bool>().unwrap(),
        [false, true, false, true, false, true]
    );
    assert_eq!(d["uint16"].to_vec::<u16>().unwrap(), [0, 1, 2, 3, 4, 5]);
    assert_eq!(
        d["int64"].to_vec::<i64>().unwrap(),
        [-3, 0, 1 << 40, 7, -1, 5]
    );
    assert_eq!(
        d["float64"].to_vec::<f64>().unwrap(),
        [0.1, -2.5, 1e300, 3.0, -0.0, 42.125]
    );
}

#[test]
fn reads_numpys_fortran_order_and_big_endian_files() {
    let f = read_npy(data("f32_fortran.npy")).unwrap();
    let expected = ArrayD::from_shape_vec(IxDyn(&[3, 4]), (0..12).map(|v| v as f32).collect());
    assert_eq!(f.into_array::<f32>().unwrap(), expected.unwrap());
    let be = read_npy(data("i16_big_endian.npy")).unwrap();
    assert_eq!(be.dtype(), DType::I16);
    assert_eq!(be.to_vec::<i16>().unwrap(), [1, -2, 300]);
}

#[test]
fn compressed_npz_and_complex_npy_are_format_errors_that_say_why() {
    let err = read_npz(data("compressed.npz")).unwrap_err();
    assert!(matches!(&err, Error::Format { path, .. } if path.ends_with("compressed.npz")));
    assert!(err.to_string().contains("savez_compressed"), "{err}");
    let err = read_npy(data("complex.npy")).unwrap_err();
    assert!(matches!(&err, Error::Format { .. }));
    assert!(err.to_string().contains("<c8"), "{err}");
}

fn sample_of(dtype: DType) -> DynArray {
    let shape = [3, 2];
    let ints = 0..6_i64;
    match dtype {
        DType::Bool => DynArray::from_shape_vec(&shape, ints.map(|v| v % 3 == 0).collect()),
        DType::U8 => DynArray::from_shape_vec(&shape, vec![0_u8, 1, 127, 128, 254, 255]),
        DType::U16 => DynArray::from_shape_vec(&shape, vec![0_u16, 1, 2, 300, 65534, 65535]),
        DType::U32 => DynArray::from_shape_vec(&shape, vec![0_u32, 1, 2, 3, 1 << 31, u32::MAX]),
        DType::U64 => DynArray::from_shape_vec(&shape, vec![0_u64, 1, 2, 3, 1 << 63, u64::MAX]),
        DType::I8 => DynArray::from_shape_vec(&shape, vec![-128_i8, -1, 0, 1, 2, 127]),
        DType::I16 => DynArray::from_shape_vec(&shape, vec![i16::MIN, -1, 0, 1, 2, i16::MAX]),
        DType::I32 => DynArray::from_shape_vec(&shape, vec![i32::MIN, -1, 0, 1, 2, i32::MAX]),
        DType::I64 => DynArray::from_shape_vec(&shape, vec![i64::MIN, -1, 0, 1, 2, i64::MAX]),
        DType::F32 => DynArray::from_shape_vec(
            &shape,
            vec![
                -0.0_f32,
                1.5,
                f32::MIN_POSITIVE,
                f32::MAX,
                f32::INFINITY,
                1e-40,
            ],
        ),
        DType::F64 => DynArray::from_shape_vec(
            &shape,
            vec![
                -0.0_f64,
                0.1,
                f64::MIN_POSITIVE,
                f64::MAX,
                f64::NEG_INFINITY,
                5e-324,
            ],
        ),
        other => panic!("no sample for {other}"),
    }
    .unwrap()
}

#[test]
fn npy_round_trips_every_dtype_bit_for_bit() {
    let dir = tmp();
    for dtype in DType::ALL {
        let a = sample_of(dtype);
        let path = dir.path().join(format!("{dtype}.npy"));
        write_npy(&path, &a).unwrap();
        assert_eq!(read_npy(&path).unwrap(), a, "{dtype}");
    }
}

#[test]
fn npz_round_trips_a_dict_of_every_dtype_and_a_scalar() {
    let dir = tmp();
    let mut dict: BTreeMap<String, DynArray> = DType::ALL
        .iter()
        .map(|d| (d.name().to_string(), sample_of(*d)))
        .collect();
    dict.insert("scalar".into(), DynArray::from(ndarray::arr0(2.5_f64)));
    dict.insert(
        "empty".into(),
        DynArray::from(ndarray::Array2::<u8>::zeros((0, 4))),
    );
    let path = dir.path().join("all.npz");
    write_npz(&path, &dict).unwrap();
    assert_eq!(read_npz(&path).unwrap(), dict);
}

#[test]
fn nan_survives_a_round_trip() {
    let dir = tmp();
    let path = dir.path().join("nan.npy");
    write_npy(&path, &DynArray::from(vec![f32::NAN])).unwrap();
    assert!(read_npy(&path).unwrap().to_vec::<f32>().unwrap()[0].is_nan());
}

#[test]
fn corrupt_npy_is_a_format_error_naming_the_file() {
    let dir = tmp();
    // Not an npy at all.
    let garbage = dir.path().join("garbage.npy");
    std::fs::write(&garbage, b"this is not a numpy file at all").unwrap();
    let err = read_npy(&garbage).unwrap_err();
    assert!(
        matches!(&err, Error::Format { path, .. } if path == &garbage),
        "{err}"
    );
    assert!(err.to_string().contains("garbage.npy"), "{err}");
    // A real file cut short: the header promises more data than is there.
    let cut = dir.path().join("cut.npy");
    write_npy(&cut, &DynArray::from(vec![1.0_f64; 100])).unwrap();
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 8]).unwrap();
    assert!(matches!(read_npy(&cut), Err(Error::Format { .. })));
    // Bytes after the data are ignored, as NumPy ignores them (issue 17).
    let long = dir.path().join("long.npy");
    std::fs::write(&long, [bytes.as_slice(), &[0; 3]].concat()).unwrap();
    assert_eq!(read_npy(&long).unwrap(), DynArray::from(vec![1.0_f64; 100]));
    // A bool array holding a 2.
    let bad_bool = dir.path().join("bool.npy");
    write_npy(&bad_bool, &DynArray::from(vec![true, false])).unwrap();
    let mut b = std::fs::read(&bad_bool).unwrap();
    *b.last_mut().unwrap() = 2;
    std::fs::write(&bad_bool, b).unwrap();
    assert!(matches!(read_npy(&bad_bool), Err(Error::Format { .. })));
}

#[test]
fn corrupt_npz_is_a_format_error_and_a_missing_file_an_io_error() {
    let dir = tmp();
    let p = dir.path().join("bad.npz");
    std::fs::write(&p, b"PK\x03\x04 not really a zip").unwrap();
    assert!(matches!(read_npz(&p), Err(Error::Format { .. })));
    assert!(matches!(
        read_npz(dir.path().join("missing.npz")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn writing_into_a_missing_folder_is_an_io_error_and_leaves_nothing() {
    let dir = tmp();
    let p = dir.path().join("no/such/dir/a.npy");
    assert!(matches!(
        write_npy(&p, &DynArray::from(vec![1_u8])),
        Err(Error::Io { .. })
    ));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------------------
// numpy_input_fn (spec §16)

#[test]
fn input_fn_over_a_numpy_written_npz_matches_the_tensorflow_example() {
    let mut d = read_npz(data("people.npz")).unwrap();
    let y = d.remove("label").unwrap();
    let input = numpy_input_fn(d)
        .y(y)
        .batch_size(2)
        .shuffle(false)
        .num_epochs(Some(1))
        .build()
        .unwrap();
    let batches: Vec<_> = input.collect::<Result<_>>().unwrap();
    assert_eq!(batches.len(), 2);
    let b = &batches[1];
    assert_eq!(
        b.feature("age").unwrap().to_vec::<f64>().unwrap(),
        [3.0, 4.0]
    );
    assert_eq!(
        b.feature("height").unwrap().to_vec::<i64>().unwrap(),
        [180, 190]
    );
    assert_eq!(b.y().unwrap().to_vec::<i64>().unwrap(), [0, 1]);
    assert_eq!(
        b.features.keys().collect::<Vec<_>>(),
        ["age", "height"],
        "sorted keys"
    );
}

/// (N, batch_size, num_epochs) -> the row order spec §16 quotes from TensorFlow's tests.
#[test]
fn spec_order_examples_hold_for_every_thread_count() {
    let cases: [(i64, usize, u64, &[&[i64]]); 4] = [
        (5, 2, 1, &[&[0, 1], &[2, 3], &[4]]),
        (3, 2, 3, &[&[0, 1], &[2, 0], &[1, 2], &[0, 1], &[2]]),
        (2, 128, 2, &[&[0, 1, 0, 1]]),
        (4, 3, 0, &[]),
    ];
    for (n, bs, epochs, expected) in cases {
        for threads in [1, 2, 4] {
            let x = BTreeMap::from([("v".to_string(), DynArray::from((0..n).collect::<Vec<_>>()))]);
            let mut input = numpy_input_fn(x)
                .batch_size(bs)
                .num_epochs(Some(epochs))
                .num_threads(threads)
                .shuffle(false)
                .build()
                .unwrap();
            let mut got = Vec::new();
            while let Ok(b) = input.next_batch() {
                got.push(b.feature("v").unwrap().to_vec::<i64>().unwrap());
            }
            assert_eq!(
                got, expected,
                "N={n} bs={bs} epochs={epochs} threads={threads}"
            );
            assert!(matches!(input.next_batch(), Err(Error::EndOfInput(_))));
            assert!(input.next().is_none());
        }
    }
}

#[test]
fn shuffled_run_is_identical_for_1_2_and_4_threads_and_each_epoch_is_a_permutation() {
    let n = 23;
    let run = |threads: usize| {
        let x = BTreeMap::from([
            (
                "a".to_string(),
                DynArray::from((0..n).collect::<Vec<i32>>()),
            ),
            (
                "img".to_string(),
                DynArray::from(ndarray::Array3::from_shape_fn(
                    (n as usize, 2, 2),
                    |(i, j, k)| (i * 4 + j * 2 + k) as u8,
                )),
            ),
        ]);
        numpy_input_fn(x)
            .y(DynArray::from((0..n).map(|v| v as f32).collect::<Vec<_>>()))
            .batch_size(4)
            .num_epochs(Some(4))
            .num_threads(threads)
            .queue_capacity(9)
            .shuffle(true)
            .seed(77)
            .build()
            .unwrap()
            .collect::<Result<Vec<_>>>()
            .unwrap()
    };
    let one = run(1);
    assert_eq!(run(2), one);
    assert_eq!(run(4), one);
    let rows: Vec<usize> = one.iter().flat_map(|b| b.rows.clone()).collect();
    for epoch in rows.chunks(n as usize) {
        let mut sorted = epoch.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..n as usize).collect::<Vec<_>>());
    }
    // Features and targets follow the rows.
    for b in &one {
        let a: Vec<usize> = b
            .feature("a")
            .unwrap()
            .to_vec::<i32>()
            .unwrap()
            .iter()
            .map(|&v| v as usize)
            .collect();
        assert_eq!(a, b.rows);
        let y: Vec<usize> = b
            .y()
            .unwrap()
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .map(|&v| v as usize)
            .collect();
        assert_eq!(y, b.rows);
    }
}

#[test]
fn different_seeds_give_different_orders() {
    let rows = |seed| {
        numpy_input_fn(DynArray::from((0..30).collect::<Vec<i64>>()))
            .batch_size(30)
            .shuffle(true)
            .seed(seed)
            .build()
            .unwrap()
            .next_batch()
            .unwrap()
            .rows
    };
    assert_eq!(rows(1), rows(1));
    assert_ne!(rows(1), rows(2));
}

#[test]
fn every_spec_error_of_numpy_input_fn() {
    let arr = |n: i64| DynArray::from((0..n).collect::<Vec<_>>());
    let msg = |r: Result<augflow::pipeline::InputFn>| r.unwrap_err().to_string();
    assert!(msg(numpy_input_fn(arr(2)).build()).contains(
        "shuffle must be provided and explicitly set as boolean (it is recommended to set it as True for training); got None"
    ));
    assert!(
        msg(numpy_input_fn(BTreeMap::new()).shuffle(true).build())
            .contains("x cannot be an empty dict")
    );
    assert!(
        msg(numpy_input_fn(arr(0)).shuffle(true).build()).contains("x cannot be an empty array")
    );
    assert!(
        msg(numpy_input_fn(arr(2))
            .y(BTreeMap::new())
            .shuffle(true)
            .build())
        .contains("y cannot be empty dict, use None instead.")
    );
    let x = BTreeMap::from([("k".to_string(), arr(2))]);
    let y = BTreeMap::from([("k".to_string(), arr(2))]);
    assert!(
        msg(numpy_input_fn(x.clone()).y(y).shuffle(true).build())
            .contains("1 duplicate keys are found in both x and y: {'k'}")
    );
    let m = msg(numpy_input_fn(x).y(arr(3)).shuffle(true).build());
    assert!(
        m.contains("Shapes in x: {'k': (2,)}") && m.contains("Shapes in y: (3,)"),
        "{m}"
    );
}

// ---------------------------------------------------------------------------------------
// user functions (spec §17)

#[test]
fn user_fn_errors_follow_tensorflows_wording() {
    let f = UserFn::new("normalize", [DType::F32], |x: &[DynArray]| {
        let v = x[0].view::<f32>()?;
        // The classic trap: promoting to f64 and forgetting to come back.
        Ok(vec![DynArray::from(v.mapv(|a| f64::from(a) / 255.0))])
    });
    let err = f.call(&[DynArray::from(vec![255.0_f32])]).unwrap_err();
    assert!(matches!(err, Error::Contract { .. }));
    assert!(
        err.to_string()
            .contains("0-th value returned by normalize is float64, but expects float32"),
        "{err}"
    );
    let none = UserFn::new("none", [DType::F32, DType::I64], |_: &[DynArray]| {
        Ok(vec![])
    });
    assert!(
        none.call(&[])
            .unwrap_err()
            .to_string()
            .contains("none returns 0 values, but expects to see 2 values.")
    );
    let failing = UserFn::new("failing", [DType::F32], |_: &[DynArray]| {
        Err("disk on fire".into())
    });
    let err = failing.call(&[]).unwrap_err();
    assert!(
        matches!(&err, Error::UserFunction { what, message } if what == "failing" && message == "disk on fire")
    );
}

/// Batches `i` of a toy sequence: `[i, i + 1]` as f32, length `n`.
struct Toy {
    n: usize,
    epoch: usize,
    panic_at: Option<usize>,
    delay: Duration,
    /// Counts this toy's prefetch worker threads alive (after their first `get`).
    live: Option<Arc<AtomicUsize>>,
}

thread_local! {
    static GUARD: RefCell<Option<ThreadGuard>> = const { RefCell::new(None) };
}

/// Holds one count of a toy's live workers; the thread-local's destructor gives it back when
/// the thread exits (before `join` returns).
struct ThreadGuard(Arc<AtomicUsize>);
impl Drop for ThreadGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Sequence for Toy {
    type Item = Vec<DynArray>;
    fn len(&self) -> usize {
        self.n
    }
    fn get(&self, i: usize) -> Result<Vec<DynArray>> {
        augflow::iterators::check_index(i, self.n)?;
        if let Some(live) = &self.live
            && std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with("augflow-prefetch"))
        {
            GUARD.with(|g| {
                let mut g = g.borrow_mut();
                if g.is_none() {
                    live.fetch_add(1, Ordering::SeqCst);
                    *g = Some(ThreadGuard(live.clone()));
                }
            });
        }
        if self.panic_at == Some(i) {
            panic!("toy sequence breaks at {i}");
        }
        std::thread::sleep(self.delay);
        let base = (i + 100 * self.epoch) as f32;
        Ok(vec![DynArray::from(vec![base, base + 1.0])])
    }
    fn on_epoch_end(&mut self) {
        self.epoch += 1;
    }
}

fn toy(n: usize) -> Toy {
    Toy {
        n,
        epoch: 0,
        panic_at: None,
        delay: Duration::ZERO,
        live: None,
    }
}

#[test]
fn prefetch_gives_exactly_the_batches_of_direct_get_for_each_epoch() {
    for workers in [1, 2, 3, 8] {
        for capacity in [1, 2, 5] {
            let mut direct = toy(17);
            let mut pf = Prefetch::new(toy(17), workers, capacity).unwrap();
            for _ in 0..2 {
                let expected: Vec<_> = (0..direct.len()).map(|i| direct.get(i).unwrap()).collect();
                let got: Vec<_> = pf.epoch().unwrap().collect::<Result<_>>().unwrap();
                assert_eq!(got, expected, "workers={workers} capacity={capacity}");
                direct.on_epoch_end();
                pf.on_epoch_end();
            }
        }
    }
}

#[test]
fn dropping_the_epoch_mid_way_joins_every_worker_thread() {
    let live = Arc::new(AtomicUsize::new(0));
    let slow = Toy {
        delay: Duration::from_millis(20),
        live: Some(live.clone()),
        ..toy(1000)
    };
    let mut pf = Prefetch::new(slow, 4, 16).unwrap();
    let mut epoch = pf.epoch().unwrap();
    epoch.next().unwrap().unwrap();
    epoch.next().unwrap().unwrap();
    assert!(live.load(Ordering::SeqCst) > 0, "workers are running");
    let t = Instant::now();
    drop(epoch);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "drop took {:?}",
        t.elapsed()
    );
    assert_eq!(
        live.load(Ordering::SeqCst),
        0,
        "every worker thread has exited"
    );
    // And the sequence is ours again.
    assert_eq!(pf.into_inner().unwrap().n, 1000);
}

#[test]
fn a_panicking_get_is_an_error_at_its_index_and_the_rest_still_arrives() {
    let mut pf = Prefetch::new(
        Toy {
            panic_at: Some(3),
            ..toy(6)
        },
        3,
        4,
    )
    .unwrap();
    let results: Vec<_> = pf.epoch().unwrap().collect();
    assert_eq!(results.len(), 6);
    for (i, r) in results.iter().enumerate() {
        if i == 3 {
            let msg = r.as_ref().unwrap_err().to_string();
            assert!(msg.contains("toy sequence breaks at 3"), "{msg}");
        } else {
            assert!(r.is_ok(), "{i}: {r:?}");
        }
    }
}

#[test]
fn a_panicking_user_fn_through_map_sequence_and_prefetch_is_an_error() {
    let f = UserFn::new("picky", [DType::F32], |x: &[DynArray]| {
        if x[0].to_vec::<f32>()?[0] == 2.0 {
            panic!("picky does not like 2");
        }
        Ok(x.to_vec())
    })
    .stateful(false);
    let mut pf = Prefetch::new(MapSequence::new(toy(5), f), 2, 2).unwrap();
    let results: Vec<_> = pf.epoch().unwrap().collect();
    assert!(results[1].is_ok());
    let err = results[2].as_ref().unwrap_err();
    assert!(matches!(err, Error::UserFunction { .. }), "{err}");
    assert!(err.to_string().contains("picky does not like 2"));
    assert!(results[3].is_ok() && results[4].is_ok());
}

#[test]
fn a_contract_error_through_map_sequence_reaches_the_consumer() {
    let f = UserFn::new("ints", [DType::I32], |x: &[DynArray]| Ok(x.to_vec()));
    let mut pf = Prefetch::new(MapSequence::new(toy(2), f), 2, 2).unwrap();
    for r in pf.epoch().unwrap() {
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("0-th value returned by ints is float32, but expects int32"),
            "{msg}"
        );
    }
}

#[test]
fn input_fn_with_threads_dropped_mid_run_returns_promptly() {
    let slow = UserFn::new("slow", [DType::I64], |x: &[DynArray]| {
        std::thread::sleep(Duration::from_millis(20));
        Ok(x.to_vec())
    })
    .stateful(false);
    let counter = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&counter);
    let count = UserFn::new("count", [DType::I64], move |x: &[DynArray]| {
        c.fetch_add(1, Ordering::SeqCst);
        Ok(x.to_vec())
    })
    .stateful(false);
    let mut input = numpy_input_fn(DynArray::from((0..10_000).collect::<Vec<i64>>()))
        .batch_size(1)
        .num_epochs(None)
        .num_threads(4)
        .shuffle(true)
        .seed(5)
        .map(slow)
        .map(count)
        .build()
        .unwrap();
    input.next_batch().unwrap();
    let t = Instant::now();
    drop(input);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "drop took {:?}",
        t.elapsed()
    );
    let after_drop = counter.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        counter.load(Ordering::SeqCst),
        after_drop,
        "no batch is built after drop"
    );
}

#[test]
fn stateful_user_fn_sees_batches_in_order_under_threads() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let log = UserFn::new("log", [DType::I64], move |x: &[DynArray]| {
        s.lock().unwrap().extend(x[0].to_vec::<i64>()?);
        Ok(x.to_vec())
    });
    let input = numpy_input_fn(array![0_i64, 1, 2, 3, 4, 5, 6])
        .batch_size(2)
        .num_epochs(Some(2))
        .num_threads(4)
        .shuffle(false)
        .map(log)
        .build()
        .unwrap();
    assert_eq!(input.count(), 7);
    assert_eq!(
        *seen.lock().unwrap(),
        [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6]
    );
}
