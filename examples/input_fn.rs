//! The `numpy_input_fn` example of TensorFlow's docs (spec §16), in augflow: features `age`
//! (float64) and `height` (int64), integer labels, batch size 2, no shuffling, one epoch.
//! Then the same data saved to an `.npz` file, read back and batched again.
//!
//! Run: `cargo run --example input_fn`

use std::collections::BTreeMap;

use augflow::array::{DynArray, read_npz, write_npz};
use augflow::pipeline::{InputFn, numpy_input_fn};

fn print_batches(input: InputFn) -> augflow::Result<()> {
    for (i, batch) in input.enumerate() {
        let batch = batch?;
        println!("batch {i}: rows {:?}", batch.rows);
        for (name, array) in &batch.features {
            println!("  {name:>6} ({}): {array}", array.dtype());
        }
        if let Some(y) = batch.y() {
            println!("  {:>6} ({}): {y}", "label", y.dtype());
        }
    }
    Ok(())
}

fn main() -> augflow::Result<()> {
    let age = DynArray::from(vec![1.0_f64, 2.0, 3.0, 4.0]);
    let height = DynArray::from(vec![160_i64, 170, 180, 190]);
    let label = DynArray::from(vec![0_i64, 1, 0, 1]);
    let x = BTreeMap::from([("age".to_string(), age), ("height".to_string(), height)]);

    println!("from arrays in memory:");
    let input = numpy_input_fn(x.clone())
        .y(label.clone())
        .batch_size(2)
        .shuffle(false)
        .num_epochs(Some(1))
        .build()?;
    print_batches(input)?;

    // The same data through an .npz file (np.load reads it too).
    let dir = std::env::temp_dir().join(format!("augflow-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| augflow::Error::Io {
        path: dir.clone(),
        source: e,
    })?;
    let path = dir.join("people.npz");
    let mut dict = x;
    dict.insert("label".to_string(), label);
    write_npz(&path, &dict)?;

    let mut loaded = read_npz(&path)?;
    let y = loaded
        .remove("label")
        .ok_or_else(|| augflow::Error::Format {
            path: path.clone(),
            message: "no 'label' array".into(),
        })?;
    println!("from {}:", path.display());
    let input = numpy_input_fn(loaded)
        .y(y)
        .batch_size(2)
        .shuffle(false)
        .build()?;
    print_batches(input)?;

    if std::env::var_os("KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
