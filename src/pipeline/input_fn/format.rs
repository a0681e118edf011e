//! TensorFlow's renderings of Python values in its error messages (spec §16), so that a
//! message reads as the one a TensorFlow user searches for.

use std::collections::BTreeMap;

use crate::array::DynArray;

/// `{'a', 'b'}`, Python's rendering of a set of strings (sorted here, so it is stable).
pub(super) fn python_set(keys: &[&String]) -> String {
    let inner: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// `(5,)`, `(5, 2)`: Python's rendering of a shape, as in TensorFlow's message.
pub(super) fn python_shape(shape: &[usize]) -> String {
    match shape {
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub(super) fn python_shapes(d: &BTreeMap<String, DynArray>) -> String {
    let inner: Vec<String> = d
        .iter()
        .map(|(k, a)| format!("'{k}': {}", python_shape(a.shape())))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_axis_shape_keeps_pythons_trailing_comma() {
        assert_eq!(python_shape(&[5]), "(5,)");
        assert_eq!(python_shape(&[5, 2]), "(5, 2)");
        assert_eq!(python_shape(&[]), "()");
    }

    #[test]
    fn sets_and_dicts_of_shapes_read_as_python_prints_them() {
        let (a, c) = ("a".to_string(), "c".to_string());
        assert_eq!(python_set(&[&a, &c]), "{'a', 'c'}");
        let d = BTreeMap::from([
            ("age".to_string(), DynArray::from(vec![1_u8, 2])),
            (
                "h".to_string(),
                DynArray::from(ndarray::Array2::<f32>::zeros((2, 3))),
            ),
        ]);
        assert_eq!(python_shapes(&d), "{'age': (2,), 'h': (2, 3)}");
    }
}
