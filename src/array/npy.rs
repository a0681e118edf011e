//! `.npy` and `.npz` files of [`DynArray`]s, with the dtype read from the file's header.
//!
//! Reads check the header against the bytes actually present before allocating, so a corrupt
//! or truncated file is an [`Error::Format`] naming the file, never a panic or a huge
//! allocation. Writes go to a temporary file in the target folder, then a rename: a crash
//! never leaves a half-written file under the final name.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{NpzWriter, WriteNpyExt};

use super::dtype::{DType, Element};
use super::dyn_array::{Data, DynArray, dispatch};
use crate::{Error, Result};

/// Reads one array from a `.npy` file (NumPy's `np.save` format, versions 1–3, either byte
/// order, C or Fortran order). The dtype comes from the header.
///
/// Errors with [`Error::Io`] when the file cannot be opened and [`Error::Format`] (naming the
/// file) for a bad header, a dtype outside [`DType`], or data shorter or longer than the
/// header says.
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
    read_array(&mut reader, available, path, None)
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

/// Reads every array of a `.npz` file (NumPy's `np.savez`), keyed by name without the
/// `.npy` suffix, in sorted order.
///
/// Compressed archives (`np.savez_compressed`) are not supported: they give an
/// [`Error::Format`] that says so. Other errors as for [`read_npy`], with the entry's name.
///
/// ```
/// use std::collections::BTreeMap;
/// use augflow::array::{DynArray, read_npz, write_npz};
///
/// let dir = std::env::temp_dir().join(format!("augflow-doc-npz-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let dict = BTreeMap::from([
///     ("age".to_string(), DynArray::from(vec![1.0_f64, 2.0])),
///     ("height".to_string(), DynArray::from(vec![160_i64, 170])),
/// ]);
/// write_npz(dir.join("d.npz"), &dict)?;
/// assert_eq!(read_npz(dir.join("d.npz"))?, dict);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn read_npz(path: impl AsRef<Path>) -> Result<BTreeMap<String, DynArray>> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| format_error(path, format!("not a valid .npz (zip) archive: {e}")))?;
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| {
            format_error(
                path,
                format!("entry #{i}: {e}{}", compressed_hint(&e.to_string())),
            )
        })?;
        let full_name = entry.name().to_owned();
        if entry.compression() != zip::CompressionMethod::Stored {
            return Err(format_error(
                path,
                format!(
                    "entry '{full_name}' is compressed ({:?}); compressed .npz \
                     (np.savez_compressed) is not supported, save with np.savez",
                    entry.compression()
                ),
            ));
        }
        let size = entry.size();
        if size > file_len {
            return Err(format_error(
                path,
                format!("entry '{full_name}' claims {size} bytes but the archive has {file_len}"),
            ));
        }
        let array = read_array(&mut entry, size, path, Some(&full_name))?;
        let name = full_name
            .strip_suffix(".npy")
            .unwrap_or(&full_name)
            .to_owned();
        if out.insert(name.clone(), array).is_some() {
            return Err(format_error(
                path,
                format!("two entries are named '{name}' once '.npy' is stripped"),
            ));
        }
    }
    Ok(out)
}

/// Writes a dict of arrays as an uncompressed `.npz` file that `np.load` reads (each array
/// stored as `<name>.npy`), atomically like [`write_npy`].
///
/// ```
/// use std::collections::BTreeMap;
/// use augflow::array::{DynArray, read_npz, write_npz};
///
/// let dir = std::env::temp_dir().join(format!("augflow-doc-wnpz-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let dict = BTreeMap::from([("x".to_string(), DynArray::from(vec![true, false]))]);
/// write_npz(dir.join("d.npz"), &dict)?;
/// assert_eq!(read_npz(dir.join("d.npz"))?["x"], dict["x"]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn write_npz(path: impl AsRef<Path>, arrays: &BTreeMap<String, DynArray>) -> Result<()> {
    let path = path.as_ref();
    write_atomically(path, |w| {
        let mut npz = NpzWriter::new(&mut *w);
        for (name, array) in arrays {
            dispatch!(&array.data, a => npz.add_array(name.as_str(), a))
                .map_err(|e| format!("array '{name}': {e}"))?;
        }
        npz.finish().map(|_| ()).map_err(|e| e.to_string())
    })
}

fn format_error(path: &Path, message: String) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        message,
    }
}

fn compressed_hint(msg: &str) -> &'static str {
    if msg.contains("Compression method not supported") {
        " (compressed .npz from np.savez_compressed is not supported; save with np.savez)"
    } else {
        ""
    }
}

/// Counts the bytes read through it, to know where the header ends.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Reads one `.npy` payload of `available` bytes from `reader`.
fn read_array<R: Read>(
    reader: &mut R,
    available: u64,
    path: &Path,
    entry: Option<&str>,
) -> Result<DynArray> {
    let ctx = |msg: String| match entry {
        Some(e) => format_error(path, format!("entry '{e}': {msg}")),
        None => format_error(path, msg),
    };
    let mut counting = Counting {
        inner: reader,
        read: 0,
    };
    let header = Header::from_reader(&mut counting)
        .map_err(|e| ctx(format!("not a valid .npy header: {e}")))?;
    let descr_value = header.type_descriptor.clone();
    let descr = descr_value.as_string().ok_or_else(|| {
        ctx(format!(
            "unsupported dtype {descr_value} (structured dtypes are not supported); expected one of {}",
            supported_list()
        ))
    })?;
    let dtype = DType::from_npy_descr(descr).ok_or_else(|| {
        ctx(format!(
            "unsupported dtype '{descr}'; expected one of {}",
            supported_list()
        ))
    })?;
    let elems = header
        .shape
        .iter()
        .try_fold(1_usize, |acc, &d| acc.checked_mul(d));
    let data_bytes = elems
        .and_then(|n| n.checked_mul(dtype.size_of()))
        .and_then(|b| u64::try_from(b).ok());
    let (Some(elems), Some(data_bytes)) = (elems, data_bytes) else {
        return Err(ctx(format!(
            "shape {:?} in the header is too large",
            header.shape
        )));
    };
    let present = available.saturating_sub(counting.read);
    if present != data_bytes {
        return Err(ctx(format!(
            "the header says shape {:?} of {dtype} ({data_bytes} bytes) but {present} data bytes follow it",
            header.shape
        )));
    }
    fn typed<T: Element, R: Read>(
        reader: R,
        header: &Header,
        elems: usize,
    ) -> std::result::Result<Data, String> {
        let fortran = header.layout.is_fortran();
        let values = T::read_to_end_exact_vec(reader, &header.type_descriptor, elems)
            .map_err(|e| e.to_string())?;
        let a = ArrayD::from_shape_vec(IxDyn(&header.shape).set_f(fortran), values)
            .map_err(|e| e.to_string())?;
        let a = if fortran {
            a.as_standard_layout().into_owned()
        } else {
            a
        };
        Ok(T::wrap(a))
    }
    let r = &mut counting;
    let data = match dtype {
        DType::Bool => typed::<bool, _>(r, &header, elems),
        DType::U8 => typed::<u8, _>(r, &header, elems),
        DType::U16 => typed::<u16, _>(r, &header, elems),
        DType::U32 => typed::<u32, _>(r, &header, elems),
        DType::U64 => typed::<u64, _>(r, &header, elems),
        DType::I8 => typed::<i8, _>(r, &header, elems),
        DType::I16 => typed::<i16, _>(r, &header, elems),
        DType::I32 => typed::<i32, _>(r, &header, elems),
        DType::I64 => typed::<i64, _>(r, &header, elems),
        DType::F32 => typed::<f32, _>(r, &header, elems),
        DType::F64 => typed::<f64, _>(r, &header, elems),
    }
    .map_err(|e| ctx(format!("bad {dtype} data: {e}")))?;
    Ok(DynArray::from_data(data))
}

fn supported_list() -> String {
    DType::ALL.map(DType::name).join(", ")
}

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
mod tests {
    use super::*;

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

    /// A `.npy` file written by hand from the format spec (NumPy's `numpy.lib.format`), not
    /// by our writer: version 1.0, header padded so the data starts at a multiple of 64.
    fn hand_made_npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
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
