//! Map steps of a [`numpy_input_fn`](super::numpy_input_fn): user functions over named
//! feature columns, their names checked once at `build`, applied to every batch.

use std::collections::BTreeSet;

use super::columns::FeatureBatch;
use crate::pipeline::user_fn::UserFn;
use crate::{Error, Result};

/// A user function applied to named feature columns of every batch.
#[derive(Clone, Debug)]
pub(super) struct MapStep {
    f: UserFn,
    /// `None`: every feature, in key order (resolved in `build`).
    inputs: Option<Vec<String>>,
    /// `None`: the same keys as the inputs.
    outputs: Option<Vec<String>>,
}

impl MapStep {
    /// `f` over every feature, in key order, its outputs replacing them.
    pub(super) fn all(f: UserFn) -> Self {
        MapStep {
            f,
            inputs: None,
            outputs: None,
        }
    }

    /// `f` over the features named `inputs`, its outputs stored under `outputs`.
    pub(super) fn named(inputs: &[&str], f: UserFn, outputs: &[&str]) -> Self {
        MapStep {
            f,
            inputs: Some(inputs.iter().map(|s| s.to_string()).collect()),
            outputs: Some(outputs.iter().map(|s| s.to_string()).collect()),
        }
    }
}

/// Resolves each step's inputs and outputs against the feature keys it will see.
pub(super) fn resolve_maps(
    steps: Vec<MapStep>,
    mut keys: BTreeSet<String>,
) -> Result<Vec<ResolvedStep>> {
    let mut out = Vec::with_capacity(steps.len());
    for mut step in steps {
        let inputs = step
            .inputs
            .take()
            .unwrap_or_else(|| keys.iter().cloned().collect());
        let outputs = step.outputs.take().unwrap_or_else(|| inputs.clone());
        let name = step.f.name().to_owned();
        let mut seen = BTreeSet::new();
        for k in &inputs {
            if !keys.contains(k) {
                return Err(Error::invalid(
                    "map inputs",
                    format!("'{k}' (for {name})"),
                    format!("a feature name, one of {keys:?}"),
                ));
            }
            if !seen.insert(k) {
                return Err(Error::invalid(
                    "map inputs",
                    format!("'{k}' twice (for {name})"),
                    "each feature named at most once",
                ));
            }
        }
        let declared = step.f.outputs().len();
        let distinct: BTreeSet<&String> = outputs.iter().collect();
        if outputs.len() != declared || distinct.len() != outputs.len() {
            return Err(Error::invalid(
                "map outputs",
                format!("{outputs:?} (for {name})"),
                format!("{declared} distinct names, one per output {name} declares"),
            ));
        }
        keys.extend(outputs.iter().cloned());
        out.push(ResolvedStep {
            f: step.f,
            inputs,
            outputs,
        });
    }
    Ok(out)
}

/// A [`MapStep`] with its feature names resolved by `build`.
#[derive(Debug)]
pub(super) struct ResolvedStep {
    f: UserFn,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

impl ResolvedStep {
    /// What a checkpoint records of the step: its function's name, inputs and outputs.
    pub(super) fn describe(&self) -> String {
        format!("{}({:?} -> {:?})", self.f.name(), self.inputs, self.outputs)
    }

    /// Whether the step's function keeps state between calls (it then runs in batch order).
    pub(super) fn is_stateful(&self) -> bool {
        self.f.is_stateful()
    }

    pub(super) fn apply(&self, batch: &mut FeatureBatch) -> Result<()> {
        let (inputs, outputs) = (&self.inputs, &self.outputs);
        // Move the inputs out (no copy), call, then put them back before the outputs land.
        let mut taken = Vec::with_capacity(inputs.len());
        for k in inputs {
            match batch.features.remove(k) {
                Some(a) => taken.push(a),
                None => {
                    return Err(Error::Contract {
                        what: self.f.name().to_owned(),
                        message: format!("feature '{k}' is missing from the batch"),
                    });
                }
            }
        }
        let result = self.f.call(&taken);
        for (k, a) in inputs.iter().zip(taken) {
            batch.features.insert(k.clone(), a);
        }
        let values = result?;
        for (i, v) in values.iter().enumerate() {
            if v.ndim() == 0 || v.len() != batch.rows.len() {
                return Err(Error::Contract {
                    what: self.f.name().to_owned(),
                    message: format!(
                        "{i}-th value returned by {} has shape {:?}, but the batch has {} rows \
                         (a map step must keep one row per sample)",
                        self.f.name(),
                        v.shape(),
                        batch.rows.len()
                    ),
                });
            }
        }
        for (k, v) in outputs.iter().zip(values) {
            batch.features.insert(k.clone(), v);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use super::super::numpy_input_fn;
    use super::super::tests::{arange, batches};
    use super::*;
    use crate::array::{DType, DynArray};

    fn counter_fn(stateful: bool) -> (UserFn, Arc<Mutex<Vec<i64>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        let f = UserFn::new("record", [DType::I64], move |x: &[DynArray]| {
            let v = x[0].view::<i64>()?;
            s.lock().unwrap().push(v[0]);
            Ok(vec![DynArray::from(v.mapv(|a| a + 100))])
        })
        .stateful(stateful);
        (f, seen)
    }

    #[test]
    fn stateful_map_runs_in_batch_order_with_many_threads() {
        let (f, seen) = counter_fn(true);
        let out = batches(
            numpy_input_fn(arange(40))
                .batch_size(1)
                .num_threads(4)
                .shuffle(false)
                .map(f)
                .build()
                .unwrap(),
        );
        assert_eq!(out.len(), 40);
        assert_eq!(out[3], [103]);
        assert_eq!(*seen.lock().unwrap(), (0..40).collect::<Vec<i64>>());
    }

    #[test]
    fn stateless_map_gives_the_same_batches_with_threads() {
        let run = |threads| {
            let (f, _) = counter_fn(false);
            batches(
                numpy_input_fn(arange(9))
                    .batch_size(2)
                    .num_threads(threads)
                    .shuffle(true)
                    .seed(8)
                    .map(f)
                    .build()
                    .unwrap(),
            )
        };
        let one = run(1);
        assert!(one.iter().flatten().all(|&v| (100..109).contains(&v)));
        assert_eq!(run(3), one);
    }

    /// The error of the first batch of 4 rows in batches of 2 mapped by `f`.
    fn first_batch_error(f: UserFn, threads: usize) -> Error {
        numpy_input_fn(arange(4))
            .batch_size(2)
            .num_threads(threads)
            .shuffle(false)
            .map(f)
            .build()
            .unwrap()
            .next_batch()
            .unwrap_err()
    }

    #[test]
    fn map_that_changes_the_row_count_is_a_contract_error() {
        let f = UserFn::new("first_only", [DType::I64], |x: &[DynArray]| {
            Ok(vec![x[0].select(&[0])?])
        });
        let err = first_batch_error(f, 1);
        assert!(matches!(err, Error::Contract { .. }), "{err}");
        assert!(err.to_string().contains("2 rows"), "{err}");
    }

    #[test]
    fn panicking_map_is_an_error_not_an_abort_with_threads() {
        let f = UserFn::new(
            "boom",
            [DType::I64],
            |_: &[DynArray]| -> std::result::Result<Vec<DynArray>, crate::BoxError> {
                panic!("user bug")
            },
        )
        .stateful(false);
        let err = first_batch_error(f, 2);
        assert!(matches!(err, Error::UserFunction { .. }), "{err}");
        assert!(err.to_string().contains("user bug"), "{err}");
    }

    #[test]
    fn map_columns_checks_names_at_build() {
        let (f, _) = counter_fn(false);
        let x = BTreeMap::from([("a".to_string(), arange(2))]);
        let b = || numpy_input_fn(x.clone()).shuffle(false);
        assert!(
            b().map_columns(&["nope"], f.clone(), &["z"])
                .build()
                .is_err()
        );
        assert!(
            b().map_columns(&["a", "a"], f.clone(), &["z"])
                .build()
                .is_err()
        );
        assert!(
            b().map_columns(&["a"], f.clone(), &["z", "w"])
                .build()
                .is_err()
        );
        // A later step may read what an earlier one wrote.
        assert!(
            b().map_columns(&["a"], f.clone(), &["z"])
                .map_columns(&["z"], f, &["w"])
                .build()
                .is_ok()
        );
    }
}
