//! The header of a `.npy` file: the magic string, the version, and the Python dict literal
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` (NumPy's `numpy.lib.format`).
//!
//! The dict is parsed by a small recursive-descent parser of the Python literals NumPy's
//! `ast.literal_eval` would meet in such a header (strings, `True`/`False`/`None`, integers,
//! tuples, lists and dicts). It never backtracks and refuses nesting deeper than
//! [`MAX_DEPTH`], so any header is parsed in time linear in its length.

use std::io::Read;

use super::dtype::DType;

/// Deepest nesting of brackets accepted: a valid header nests 2 deep (the dict, the shape).
const MAX_DEPTH: usize = 8;

/// What the header says about the array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NpyHeader {
    pub dtype: DType,
    pub big_endian: bool,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
    /// Bytes from the start of the file to the first data byte.
    pub data_offset: u64,
}

/// Reads the header from `reader`, which holds `available` bytes in all. Nothing larger than
/// the file's own bytes is ever allocated. The error is a message without the file's name.
pub(crate) fn read_header<R: Read>(
    reader: &mut R,
    available: u64,
) -> std::result::Result<NpyHeader, String> {
    let mut prefix = [0u8; 8];
    read_exact(reader, &mut prefix, "the magic string and version")?;
    if &prefix[..6] != b"\x93NUMPY" {
        return Err("not a .npy file: it does not start with the magic string \\x93NUMPY".into());
    }
    let (major, minor) = (prefix[6], prefix[7]);
    let len_bytes = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => {
            return Err(format!(
                "unsupported .npy format version {major}.{minor}; expected 1.0, 2.0 or 3.0"
            ));
        }
    };
    let mut len = [0u8; 4];
    read_exact(reader, &mut len[..len_bytes], "the header length")?;
    let header_len = u64::from(u32::from_le_bytes(len));
    let data_offset = 8 + len_bytes as u64 + header_len;
    if data_offset > available {
        return Err(format!(
            "the header claims {header_len} bytes but the file holds only {available} bytes in all"
        ));
    }
    // Bounded by the file's size just above.
    let mut dict = vec![0u8; header_len as usize];
    read_exact(reader, &mut dict, "the header")?;
    let (dtype, big_endian, fortran_order, shape) =
        parse_dict(&dict).map_err(|e| format!("not a valid .npy header: {e}"))?;
    Ok(NpyHeader {
        dtype,
        big_endian,
        fortran_order,
        shape,
        data_offset,
    })
}

fn read_exact<R: Read>(r: &mut R, buf: &mut [u8], what: &str) -> Result<(), String> {
    r.read_exact(buf)
        .map_err(|e| format!("cannot read {what} ({} bytes): {e}", buf.len()))
}

/// A Python literal, as far as a header needs one.
#[derive(Debug)]
enum Value {
    Str(String),
    Bool(bool),
    None,
    Int(Option<u64>),
    Tuple(Vec<Value>),
    List,
    Dict(Vec<(Value, Value)>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Bool(_) => "a bool",
            Value::None => "None",
            Value::Int(_) => "an integer",
            Value::Tuple(_) => "a tuple",
            Value::List => "a list",
            Value::Dict(_) => "a dict",
        }
    }
}

/// Checks the dict's keys and values as NumPy's `_read_array_header` does.
fn parse_dict(bytes: &[u8]) -> Result<(DType, bool, bool, Vec<usize>), String> {
    let mut p = Parser { bytes, pos: 0 };
    let value = p.value(0)?;
    p.skip_space();
    if p.pos != bytes.len() {
        return Err(format!("unexpected {} after the dict", p.describe()));
    }
    let Value::Dict(entries) = value else {
        return Err(format!("expected a dict, found {}", value.kind()));
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in entries {
        let Value::Str(key) = key else {
            return Err(format!("a key is {}, not a string", key.kind()));
        };
        // Python keeps the last of repeated keys.
        match key.as_str() {
            "descr" => descr = Some(value),
            "fortran_order" => fortran = Some(value),
            "shape" => shape = Some(value),
            other => {
                return Err(format!(
                    "unexpected key {other:?}; expected exactly 'descr', 'fortran_order' and 'shape'"
                ));
            }
        }
    }
    let missing = |k: &str| format!("the key '{k}' is missing");
    let descr = match descr.ok_or_else(|| missing("descr"))? {
        Value::Str(s) => s,
        other => {
            return Err(format!(
                "'descr' is {} (structured dtypes are not supported); expected a dtype string such as '<f4'",
                other.kind()
            ));
        }
    };
    let (dtype, big_endian) = DType::from_npy_descr_with_order(&descr).ok_or_else(|| {
        format!(
            "unsupported dtype '{descr}'; expected one of {}",
            DType::ALL.map(DType::name).join(", ")
        )
    })?;
    let fortran = match fortran.ok_or_else(|| missing("fortran_order"))? {
        Value::Bool(b) => b,
        other => return Err(format!("'fortran_order' is {}, not a bool", other.kind())),
    };
    let dims = match shape.ok_or_else(|| missing("shape"))? {
        Value::Tuple(d) => d,
        other => return Err(format!("'shape' is {}, not a tuple", other.kind())),
    };
    let shape = dims
        .into_iter()
        .map(|d| match d {
            Value::Int(Some(n)) => {
                usize::try_from(n).map_err(|_| format!("dimension {n} is too large"))
            }
            Value::Int(None) => Err("a dimension is negative or too large".to_string()),
            other => Err(format!("a dimension is {}, not an integer", other.kind())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((dtype, big_endian, fortran, shape))
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn describe(&self) -> String {
        match self.peek() {
            Some(c) => format!("{:?} at byte {}", c as char, self.pos),
            None => "end of header".into(),
        }
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        self.skip_space();
        let Some(c) = self.peek() else {
            return Err("the header ends where a value should be".into());
        };
        match c {
            b'{' | b'(' | b'[' => {
                if depth >= MAX_DEPTH {
                    return Err(format!(
                        "brackets nested deeper than {MAX_DEPTH} at byte {}",
                        self.pos
                    ));
                }
                let close = match c {
                    b'{' => b'}',
                    b'(' => b')',
                    _ => b']',
                };
                self.pos += 1;
                self.sequence(c, close, depth + 1)
            }
            b'\'' | b'"' => self.string(c),
            b'0'..=b'9' | b'-' | b'+' => self.int(),
            _ => self.word(),
        }
    }

    /// The items of a `{}`, `()` or `[]` after its opening bracket, up to the closing one.
    fn sequence(&mut self, open: u8, close: u8, depth: usize) -> Result<Value, String> {
        let mut items = Vec::new();
        let mut pairs = Vec::new();
        let mut commas = 0;
        loop {
            self.skip_space();
            if self.peek() == Some(close) {
                self.pos += 1;
                break;
            }
            let item = self.value(depth)?;
            if open == b'{' {
                self.skip_space();
                if self.peek() != Some(b':') {
                    return Err(format!(
                        "expected ':' in the dict, found {}",
                        self.describe()
                    ));
                }
                self.pos += 1;
                pairs.push((item, self.value(depth)?));
            } else {
                items.push(item);
            }
            self.skip_space();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    commas += 1;
                }
                Some(c) if c == close => {}
                _ => {
                    return Err(format!(
                        "expected ',' or '{}', found {}",
                        close as char,
                        self.describe()
                    ));
                }
            }
        }
        Ok(match open {
            b'{' => Value::Dict(pairs),
            b'[' => Value::List,
            // `(1)` is the integer 1, not a tuple.
            _ if items.len() == 1 && commas == 0 => items.pop().unwrap_or(Value::None),
            _ => Value::Tuple(items),
        })
    }

    fn string(&mut self, quote: u8) -> Result<Value, String> {
        let start = self.pos + 1;
        let len = self.bytes[start..]
            .iter()
            .position(|&b| b == quote || b == b'\\' || b == b'\n')
            .ok_or("a string is not closed")?;
        let end = start + len;
        if self.bytes[end] != quote {
            return Err(format!(
                "unsupported character {:?} in a string at byte {end}",
                self.bytes[end] as char
            ));
        }
        self.pos = end + 1;
        // Version 1 and 2 headers are latin-1; version 3 is UTF-8. Dtype strings are ASCII.
        Ok(Value::Str(
            self.bytes[start..end].iter().map(|&b| b as char).collect(),
        ))
    }

    fn int(&mut self) -> Result<Value, String> {
        let negative = self.peek() == Some(b'-');
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        let start = self.pos;
        let mut n: Option<u64> = Some(0);
        while let Some(d @ b'0'..=b'9') = self.peek() {
            n = n
                .and_then(|n| n.checked_mul(10))
                .and_then(|n| n.checked_add(u64::from(d - b'0')));
            self.pos += 1;
        }
        if self.pos == start {
            return Err(format!("expected a digit, found {}", self.describe()));
        }
        // Python 2's long suffix, as in headers NumPy wrote under Python 2.
        if matches!(self.peek(), Some(b'L' | b'l')) {
            self.pos += 1;
        }
        Ok(Value::Int(n.filter(|&n| !negative || n == 0)))
    }

    fn word(&mut self) -> Result<Value, String> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
            self.pos += 1;
        }
        match &self.bytes[start..self.pos] {
            b"True" => Ok(Value::Bool(true)),
            b"False" => Ok(Value::Bool(false)),
            b"None" => Ok(Value::None),
            _ => {
                self.pos = start;
                Err(format!("unexpected {}", self.describe()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<(DType, bool, bool, Vec<usize>), String> {
        parse_dict(s.as_bytes())
    }

    #[test]
    fn reads_numpys_own_header() {
        let h = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }      \n");
        assert_eq!(h, Ok((DType::F32, false, false, vec![2, 3])));
    }

    #[test]
    fn one_element_and_empty_shapes_are_tuples() {
        let h = parse("{'descr': '>i8', 'fortran_order': True, 'shape': (7,)}").unwrap();
        assert_eq!(h, (DType::I64, true, true, vec![7]));
        let h = parse("{'descr': '|u1', 'fortran_order': False, 'shape': ()}").unwrap();
        assert_eq!(h.3, Vec::<usize>::new());
    }

    #[test]
    fn a_parenthesised_integer_is_not_a_tuple() {
        let e = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (7)}").unwrap_err();
        assert!(e.contains("not a tuple"), "{e}");
    }

    #[test]
    fn missing_extra_and_mistyped_keys_are_named() {
        let e = parse("{'descr': '<f4', 'shape': (1,)}").unwrap_err();
        assert!(e.contains("fortran_order"), "{e}");
        let e =
            parse("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}").unwrap_err();
        assert!(e.contains("'x'") || e.contains("\"x\""), "{e}");
        let e =
            parse("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}").unwrap_err();
        assert!(e.contains("structured"), "{e}");
        let e = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}").unwrap_err();
        assert!(e.contains("negative"), "{e}");
    }

    #[test]
    fn nesting_deeper_than_the_bound_is_refused() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let e = parse(&deep).unwrap_err();
        assert!(e.contains("nested"), "{e}");
        // Thousands of levels, which a recursive parser without a bound would overflow on.
        let deeper = "(".repeat(100_000);
        assert!(parse(&deeper).unwrap_err().contains("nested"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for s in [
            "",
            "{",
            "{'",
            "{'descr'",
            "{'descr':",
            "{1: 2}",
            "{'a' 1}",
            "x",
            "'abc'",
            "{}}",
        ] {
            assert!(parse(s).is_err(), "{s:?}");
        }
    }
}
