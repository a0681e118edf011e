//! `.npy` and `.npz` files of [`DynArray`]s, with the dtype read from the file's header.
//!
//! Reads check the header against the bytes actually present before allocating, so a corrupt
//! or truncated file is an [`Error::Format`] naming the file, never a panic or a huge
//! allocation. Writes go to a temporary file in the target folder, then a rename: a crash
//! never leaves a half-written file under the final name.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use ndarray_npy::WriteNpyExt;

use super::dtype::{DType, Element};
use super::dyn_array::{Data, DynArray, dispatch};
use super::npy_header::{NpyHeader, read_header};
use crate::{Error, Result};

/// Reads one array from a `.npy` file (NumPy's `np.save` format, versions 1–3, either byte
/// order, C or Fortran order). The dtype comes from the header; big-endian data is converted
/// to the machine's order. Bytes after the data are ignored, as NumPy ignores them.
///
/// Errors with [`Error::Io`] when the file cannot be opened and [`Error::Format`] (naming the
/// file) for a bad header, a dtype outside [`DType`], or data shorter than the header says.
/// Sizes in the header are checked against the file's size before anything is allocated, and
/// the header is parsed in time linear in its length.
///
/// ```
/// use augflow::array::{DType, DynArray, read_npy, write_npy};
///
/// let dir = std::env::temp_dir().join(format!("augflow-doc-npy-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("a.npy");
/// write_npy(&path, &DynArray::from(vec![1_i64, 2, 3]))?;
/// let back = read_npy(&path)?;
/// assert_eq!(back.dtype(), DType::I64);
/// assert_eq!(back.shape(), &[3]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn read_npy(path: impl AsRef<Path>) -> Result<DynArray> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let available = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut reader = BufReader::new(file);
    read_array(&mut reader, available, &|msg| format_error(path, msg))
}

/// Writes one array as a `.npy` file (little-endian, C order), atomically: the data goes to
/// a temporary file in the same folder which is then renamed over `path`.
///
/// Errors with [`Error::Io`] naming the path when the folder is not writable.
///
/// ```
/// use augflow::array::{DynArray, read_npy, write_npy};
///
/// let dir = std::env::temp_dir().join(format!("augflow-doc-wnpy-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let a = DynArray::from(ndarray::array![[1.0_f32, 2.0], [3.0, 4.0]]);
/// write_npy(dir.join("a.npy"), &a)?;
/// assert_eq!(read_npy(dir.join("a.npy"))?, a);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn write_npy(path: impl AsRef<Path>, array: &DynArray) -> Result<()> {
    let path = path.as_ref();
    write_atomically(path, |w| {
        dispatch!(&array.data, a => a.write_npy(&mut *w)).map_err(|e| e.to_string())
    })
}

pub(crate) fn format_error(path: &Path, message: String) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        message,
    }
}

/// Reads one `.npy` payload of `available` bytes from `reader`: the header, then exactly the
/// data it declares (bytes after it are ignored, as NumPy ignores them). Sizes are checked
/// against `available` before anything is allocated. `ctx` turns a message into the error.
pub(crate) fn read_array<R: Read>(
    reader: &mut R,
    available: u64,
    ctx: &dyn Fn(String) -> Error,
) -> Result<DynArray> {
    let header = read_header(reader, available).map_err(ctx)?;
    let dtype = header.dtype;
    let (elems, _) = data_size(&header, available).map_err(ctx)?;
    let h = &header;
    let data = match dtype {
        DType::Bool => typed::<bool, _>(reader, h, elems),
        DType::U8 => typed::<u8, _>(reader, h, elems),
        DType::U16 => typed::<u16, _>(reader, h, elems),
        DType::U32 => typed::<u32, _>(reader, h, elems),
        DType::U64 => typed::<u64, _>(reader, h, elems),
        DType::I8 => typed::<i8, _>(reader, h, elems),
        DType::I16 => typed::<i16, _>(reader, h, elems),
        DType::I32 => typed::<i32, _>(reader, h, elems),
        DType::I64 => typed::<i64, _>(reader, h, elems),
        DType::F32 => typed::<f32, _>(reader, h, elems),
        DType::F64 => typed::<f64, _>(reader, h, elems),
    }
    .map_err(|e| ctx(format!("bad {dtype} data: {e}")))?;
    Ok(DynArray::from_data(data))
}

/// The number of values and of data bytes `header` declares, checked against the `available`
/// bytes of the file: an error when the shape overflows or the data is not all there.
pub(crate) fn data_size(
    header: &NpyHeader,
    available: u64,
) -> std::result::Result<(usize, u64), String> {
    let elems = header
        .shape
        .iter()
        .try_fold(1_usize, |acc, &d| acc.checked_mul(d));
    let data_bytes = elems
        .and_then(|n| n.checked_mul(header.dtype.size_of()))
        .and_then(|b| u64::try_from(b).ok());
    let (Some(elems), Some(data_bytes)) = (elems, data_bytes) else {
        return Err(format!(
            "shape {:?} in the header is too large",
            header.shape
        ));
    };
    let present = available - header.data_offset;
    if present < data_bytes {
        return Err(format!(
            "the header says shape {:?} of {} ({data_bytes} bytes) but only {present} data bytes follow it",
            header.shape, header.dtype
        ));
    }
    Ok((elems, data_bytes))
}

/// Reads `elems` values of `T` in the header's byte order and layout. The caller has checked
/// that the data is present, so the allocation is bounded by the file's size.
fn typed<T: FromNpyBytes, R: Read>(
    reader: &mut R,
    header: &NpyHeader,
    elems: usize,
) -> std::result::Result<Data, String> {
    const CHUNK: usize = 1 << 16; // a multiple of every element size
    let size = std::mem::size_of::<T>();
    let mut values = Vec::new();
    values
        .try_reserve_exact(elems)
        .map_err(|e| format!("cannot allocate {elems} values: {e}"))?;
    let mut left = elems * size;
    let mut buf = vec![0u8; left.min(CHUNK)];
    while left > 0 {
        let chunk = &mut buf[..left.min(CHUNK)];
        reader
            .read_exact(chunk)
            .map_err(|e| format!("cannot read the data: {e}"))?;
        for b in chunk.chunks_exact(size) {
            let v = T::from_npy_bytes(b, header.big_endian).ok_or_else(|| {
                format!(
                    "element {} holds the byte {}, not a bool (0 or 1)",
                    values.len(),
                    b[0]
                )
            })?;
            values.push(v);
        }
        left -= chunk.len();
    }
    let fortran = header.fortran_order;
    let a = ArrayD::from_shape_vec(IxDyn(&header.shape).set_f(fortran), values)
        .map_err(|e| e.to_string())?;
    let a = if fortran {
        a.as_standard_layout().into_owned()
    } else {
        a
    };
    Ok(T::wrap(a))
}

/// Decodes one element from its bytes in a `.npy` file; `None` for a bool byte other than 0
/// or 1, which NumPy would read as `True` but which is more likely a corrupt file.
trait FromNpyBytes: Element {
    fn from_npy_bytes(bytes: &[u8], big_endian: bool) -> Option<Self>;
}

impl FromNpyBytes for bool {
    fn from_npy_bytes(bytes: &[u8], _: bool) -> Option<Self> {
        match bytes[0] {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

macro_rules! from_npy_bytes {
    ($($t:ty),*) => {$(
        impl FromNpyBytes for $t {
            fn from_npy_bytes(bytes: &[u8], big_endian: bool) -> Option<Self> {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                b.copy_from_slice(bytes);
                Some(if big_endian { <$t>::from_be_bytes(b) } else { <$t>::from_le_bytes(b) })
            }
        }
    )*};
}

from_npy_bytes!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

/// Writes through `write` into a fresh temporary file next to `path`, syncs it, then renames
/// it to `path`. On any failure the temporary file is removed and `path` is left as it was.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::result::Result<(), String>,
) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::invalid("path", path.display(), "a path that ends in a file name"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{}.{}-{}.tmp",
        file_name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| Error::io(path, e))?;
    let result = (|| {
        let mut w = BufWriter::new(file);
        write(&mut w).map_err(|msg| Error::io(path, io::Error::other(msg)))?;
        w.flush().map_err(|e| Error::io(path, e))?;
        let file = w
            .into_inner()
            .map_err(|e| Error::io(path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(path, e))?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    } else if let Ok(d) = File::open(&dir) {
        // Best effort: make the rename itself durable.
        let _ = d.sync_all();
    }
    result
}

#[cfg(test)]
/// A `.npy` file written by hand from the format spec (NumPy's `numpy.lib.format`), not
/// by our writer: version 1.0, header padded so the data starts at a multiple of 64.
pub(crate) fn hand_made_npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut dict = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::npy::hand_made_npy;

    fn tmp_dir(tag: &str) -> PathBuf {
        static N: AtomicU64 = AtomicU64::new(0);
        let d = std::env::temp_dir().join(format!(
            "augflow-npy-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_a_hand_made_big_endian_int32_file() {
        let dir = tmp_dir("be");
        let p = dir.join("a.npy");
        let data: Vec<u8> = [1_i32, -2, 300]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        fs::write(&p, hand_made_npy(">i4", false, "(3,)", &data)).unwrap();
        let a = read_npy(&p).unwrap();
        assert_eq!(
            a.into_array::<i32>().unwrap().into_raw_vec_and_offset().0,
            [1, -2, 300]
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn reads_fortran_order_into_the_right_positions() {
        let dir = tmp_dir("f");
        let p = dir.join("a.npy");
        // Column-major bytes of [[1, 2, 3], [4, 5, 6]]: 1 4 2 5 3 6.
        fs::write(
            &p,
            hand_made_npy("|u1", true, "(2, 3)", &[1, 4, 2, 5, 3, 6]),
        )
        .unwrap();
        let a = read_npy(&p).unwrap().into_array::<u8>().unwrap();
        assert_eq!(a, ndarray::array![[1_u8, 2, 3], [4, 5, 6]].into_dyn());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn truncated_data_is_a_format_error_naming_the_file() {
        let dir = tmp_dir("trunc");
        let p = dir.join("short.npy");
        fs::write(
            &p,
            hand_made_npy("<f8", false, "(1000000000000,)", &[0; 16]),
        )
        .unwrap();
        let err = read_npy(&p).unwrap_err();
        assert!(
            matches!(&err, Error::Format { path, .. } if path == &p),
            "{err}"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unknown_dtype_is_a_format_error_listing_the_supported_ones() {
        let dir = tmp_dir("dt");
        let p = dir.join("c.npy");
        fs::write(&p, hand_made_npy("<c8", false, "(1,)", &[0; 8])).unwrap();
        let msg = read_npy(&p).unwrap_err().to_string();
        assert!(
            msg.contains("<c8") && msg.contains("float32") && msg.contains("c.npy"),
            "{msg}"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn failed_write_leaves_no_temporary_file_and_keeps_the_old_one() {
        let dir = tmp_dir("atomic");
        let p = dir.join("keep.npy");
        fs::write(&p, b"old").unwrap();
        let r = write_atomically(&p, |_| Err("simulated failure".into()));
        assert!(matches!(r, Err(Error::Io { .. })));
        assert_eq!(fs::read(&p).unwrap(), b"old");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        fs::remove_dir_all(dir).unwrap();
    }
}
