//! `.npz` files: zip archives of `.npy` entries (NumPy's `np.savez`), read with the entry
//! count checked against the archive's central directory.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use ndarray_npy::NpzWriter;

use super::dyn_array::{Data, DynArray, dispatch};
use super::npy::{format_error, read_array, write_atomically};
use crate::{Error, Result};

/// Reads every array of a `.npz` file (NumPy's `np.savez`), keyed by name without the
/// `.npy` suffix, in sorted order.
///
/// Compressed archives (`np.savez_compressed`) are not supported: they give an
/// [`Error::Format`] that says so. An archive whose end record counts fewer or more entries
/// than its central directory holds is refused as damaged, never read as a subset. Other
/// errors as for [`read_npy`](super::read_npy), with the entry's name.
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
    let mut again = File::open(path).map_err(|e| Error::io(path, e))?;
    check_entry_count(
        &mut again,
        file_len,
        zip.central_directory_start(),
        zip.len(),
    )
    .map_err(|e| format_error(path, e))?;
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
        let ctx = |msg: String| format_error(path, format!("entry '{full_name}': {msg}"));
        let array = read_array(&mut entry, size, &ctx)?;
        // Read to the end, which checks the entry's CRC-32.
        io::copy(&mut entry, &mut io::sink()).map_err(|e| ctx(format!("damaged data: {e}")))?;
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

fn compressed_hint(msg: &str) -> &'static str {
    if msg.contains("Compression method not supported") {
        " (compressed .npz from np.savez_compressed is not supported; save with np.savez)"
    } else {
        ""
    }
}

fn le16(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn le32(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn read_at(file: &mut File, at: u64, len: usize) -> std::result::Result<Vec<u8>, String> {
    let mut buf = vec![0u8; len];
    file.seek(SeekFrom::Start(at))
        .and_then(|_| file.read_exact(&mut buf))
        .map_err(|e| format!("cannot read {len} bytes at offset {at}: {e}"))?;
    Ok(buf)
}

/// Walks the central directory as Python's `zipfile` (and so `np.load`) does, header by
/// header over the size the end record gives, and checks that it holds the `listed` entries
/// the zip reader found: an end record that miscounts them would otherwise hide entries.
fn check_entry_count(
    file: &mut File,
    file_len: u64,
    directory_start: u64,
    listed: usize,
) -> std::result::Result<(), String> {
    // The end record (22 bytes) is followed by a comment of at most 65535 bytes.
    let tail_len = file_len.min(22 + 65535);
    let tail = read_at(file, file_len - tail_len, tail_len as usize)?;
    let Some(end) = tail
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .filter(|&at| at + 22 <= tail.len())
    else {
        return Err("no end-of-central-directory record".into());
    };
    let (mut claimed, mut size) = (le16(&tail, end + 10), le32(&tail, end + 12));
    if (claimed == 0xFFFF || size == 0xFFFF_FFFF)
        && end >= 20
        && &tail[end - 20..end - 16] == b"PK\x06\x07"
    {
        // Zip64: the locator before the end record points at the zip64 end record.
        let at = le64(&tail, end - 20 + 8);
        if at.checked_add(56).is_none_or(|e| e > file_len) {
            return Err(format!(
                "the zip64 end record's offset {at} is past the end of the archive"
            ));
        }
        let rec = read_at(file, at, 56)?;
        if &rec[..4] != b"PK\x06\x06" {
            return Err(format!("no zip64 end record at offset {at}"));
        }
        (claimed, size) = (le64(&rec, 32), le64(&rec, 40));
    }
    if directory_start
        .checked_add(size)
        .is_none_or(|e| e > file_len)
    {
        return Err(format!(
            "the central directory claims {size} bytes at offset {directory_start}, past the end of the archive ({file_len} bytes)"
        ));
    }
    // Bounded by the file's size just above.
    let dir = read_at(file, directory_start, size as usize)?;
    let mut found = 0_u64;
    let mut at = 0;
    while at + 46 <= dir.len() && &dir[at..at + 4] == b"PK\x01\x02" {
        let lengths = le16(&dir, at + 28) + le16(&dir, at + 30) + le16(&dir, at + 32);
        at += 46 + lengths as usize;
        found += 1;
    }
    if found != listed as u64 || found != claimed {
        return Err(format!(
            "damaged archive: its central directory holds {found} entries but its end record claims {claimed}"
        ));
    }
    Ok(())
}
