//! DataFrameIterator over CSV files: every class mode, weights, multi-label cells, dropped
//! files with one counted warning, Keras' parameter checks.

use std::path::Path;
use std::sync::Mutex;

use augflow::iterators::{Batch, ClassMode, DataFrameBuilder, DataFrameIterator, Subset};
use augflow::{Error, FillMode, ImageDataGenerator, Sequence};
use image::{Rgb, RgbImage};
use ndarray::ArrayD;

/// Collects every log message, so tests can check Keras' warnings.
struct Collect(Mutex<Vec<String>>);
impl log::Log for Collect {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        self.0.lock().unwrap().push(r.args().to_string());
    }
    fn flush(&self) {}
}
static LOGS: Collect = Collect(Mutex::new(Vec::new()));

fn logs() -> Vec<String> {
    let _ = log::set_logger(&LOGS);
    log::set_max_level(log::LevelFilter::Trace);
    LOGS.0.lock().unwrap().clone()
}

/// Image `i` has a flat red channel `20·i` (to recognise it) and textured green/blue.
fn images(dir: &Path, n: u8) {
    std::fs::create_dir_all(dir.join("img")).unwrap();
    for i in 0..n {
        RgbImage::from_fn(20, 16, |x, y| {
            Rgb([i * 20, (x * 12 + y * 7) as u8, ((x * y * 5) % 256) as u8])
        })
        .save(dir.join(format!("img/{i}.png")))
        .unwrap();
    }
}

/// A temp folder with images 0..6 and `labels.csv` holding `body` under `header`.
fn setup(header: &str, body: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    images(dir.path(), 6);
    let csv = dir.path().join("labels.csv");
    std::fs::write(&csv, format!("{header}\n{body}")).unwrap();
    (dir, csv)
}

const TABLE: &str = "\
img/0.png,cat,1.5,0.25,3
img/1.png,dog,2.0,0.5,4
img/2.png,cat,0.5,0.75,5
img/3.png,dog,1.0,1.0,6
img/4.png,cat,3.0,1.25,7
img/5.png,dog,4.0,1.5,8
";
const HEADER: &str = "filename,class,w,t1,t2";

fn plain() -> ImageDataGenerator {
    ImageDataGenerator::builder().build().unwrap()
}

fn flow(dir: &Path, csv: &Path) -> DataFrameBuilder {
    plain()
        .flow_from_dataframe(csv)
        .directory(dir)
        .target_size(8, 10)
        .shuffle(false)
        .batch_size(6)
}

fn id_of(b: &Batch, k: usize) -> usize {
    (b.x[[k, 0, 0, 0]] / 20.0).round() as usize
}

fn f32s(a: Option<augflow::DynArray>) -> ArrayD<f32> {
    a.unwrap().into_array::<f32>().unwrap()
}

fn f64s(a: Option<augflow::DynArray>) -> ArrayD<f64> {
    a.unwrap().into_array::<f64>().unwrap()
}

#[test]
fn categorical_binary_and_sparse_labels_follow_sorted_classes() {
    let (dir, csv) = setup(HEADER, TABLE);
    let it = flow(dir.path(), &csv).build().unwrap();
    assert_eq!(it.class_names(), &["cat", "dog"]);
    let b = it.get(0).unwrap();
    assert_eq!(
        (0..6).map(|k| id_of(&b, k)).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4, 5]
    );
    let y = f32s(b.y);
    assert_eq!(y.shape(), &[6, 2]);
    assert_eq!(
        y.as_slice().unwrap(),
        &[1., 0., 0., 1., 1., 0., 0., 1., 1., 0., 0., 1.]
    );
    for mode in [ClassMode::Binary, ClassMode::Sparse] {
        let it = flow(dir.path(), &csv).class_mode(mode).build().unwrap();
        let y = f32s(it.get(0).unwrap().y);
        assert_eq!(y.as_slice().unwrap(), &[0., 1., 0., 1., 0., 1.], "{mode}");
    }
}

#[test]
fn given_classes_set_the_order_and_drop_rows_without_one() {
    let body = "img/0.png,cat\nimg/1.png,dog\nimg/2.png,emu\nimg/3.png,\"['emu', 'dog']\"\n";
    let (dir, csv) = setup("filename,class", body);
    let it = flow(dir.path(), &csv)
        .classes(["dog", "cat", "dog"])
        .build()
        .unwrap();
    assert_eq!(it.class_names(), &["dog", "cat"]);
    // img/2 (emu only) is dropped; img/3 keeps only dog.
    assert_eq!(it.filenames(), &["img/0.png", "img/1.png", "img/3.png"]);
    assert_eq!(it.classes(), &[vec![1], vec![0], vec![0]]);
    let y = f32s(it.get(0).unwrap().y);
    assert_eq!(y.as_slice().unwrap(), &[0., 1., 1., 0., 1., 0.]);
}

#[test]
fn multi_label_cells_give_multi_hot_rows() {
    let body = "img/0.png,\"['a', 'b']\"\nimg/1.png,\"[\"\"c\"\"]\"\nimg/2.png,a|c\nimg/3.png,b\n";
    let (dir, csv) = setup("filename,class", body);
    let it = flow(dir.path(), &csv).build().unwrap();
    assert_eq!(it.class_names(), &["a", "b", "c"]);
    assert_eq!(it.classes(), &[vec![0, 1], vec![2], vec![0, 2], vec![1]]);
    let y = f32s(it.get(0).unwrap().y);
    assert_eq!(
        y.as_slice().unwrap(),
        &[1., 1., 0., 0., 0., 1., 1., 0., 1., 0., 1., 0.]
    );
    // Without a separator, `a|c` is one label of its own.
    let it = flow(dir.path(), &csv)
        .multi_label_separator(None)
        .build()
        .unwrap();
    assert_eq!(it.class_names(), &["a", "a|c", "b", "c"]);
    // Lists are for categorical only (Keras: binary/sparse labels must be strings).
    let err = flow(dir.path(), &csv)
        .class_mode(ClassMode::Sparse)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidParameter { name: "y_col", .. }),
        "{err}"
    );
}

#[test]
fn binary_needs_exactly_two_classes() {
    let body = "img/0.png,a\nimg/1.png,b\nimg/2.png,c\n";
    let (dir, csv) = setup("filename,class", body);
    let err = flow(dir.path(), &csv)
        .class_mode(ClassMode::Binary)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("3 classes"), "{err}");
    let err = flow(dir.path(), &csv)
        .class_mode(ClassMode::Binary)
        .classes(["a"])
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("1 classes"), "{err}");
    let it = flow(dir.path(), &csv)
        .class_mode(ClassMode::Binary)
        .classes(["c", "a"])
        .build()
        .unwrap();
    assert_eq!(it.filenames(), &["img/0.png", "img/2.png"]);
    assert_eq!(f32s(it.get(0).unwrap().y).as_slice().unwrap(), &[1., 0.]);
}

#[test]
fn raw_gives_the_numbers_of_one_or_several_columns() {
    let (dir, csv) = setup(HEADER, TABLE);
    let it = flow(dir.path(), &csv)
        .class_mode(ClassMode::Raw)
        .y_col("t1")
        .build()
        .unwrap();
    assert!(it.classes().is_empty());
    let y = f64s(it.get(0).unwrap().y);
    assert_eq!(y.as_slice().unwrap(), &[0.25, 0.5, 0.75, 1.0, 1.25, 1.5]);
    let it = flow(dir.path(), &csv)
        .class_mode(ClassMode::Raw)
        .y_cols(["t1", "t2"])
        .batch_size(2)
        .build()
        .unwrap();
    let y = f64s(it.get(1).unwrap().y);
    assert_eq!(y.shape(), &[2, 2]);
    assert_eq!(y.as_slice().unwrap(), &[0.75, 5.0, 1.0, 6.0]);
    // Non-numbers in a raw column are an error naming the line.
    let err = flow(dir.path(), &csv)
        .class_mode(ClassMode::Raw)
        .y_col("class")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err}");
    assert!(
        err.to_string().contains("line 2") && err.to_string().contains("\"cat\""),
        "{err}"
    );
}

#[test]
fn multi_output_puts_one_array_per_column_in_extras() {
    let (dir, csv) = setup(HEADER, TABLE);
    let it = flow(dir.path(), &csv)
        .class_mode(ClassMode::MultiOutput)
        .y_cols(["t2", "w"])
        .batch_size(4)
        .build()
        .unwrap();
    let b = it.get(1).unwrap();
    assert!(b.y.is_none());
    assert_eq!(b.extras.len(), 2);
    assert_eq!(
        b.extras[0].view::<f64>().unwrap().as_slice().unwrap(),
        &[7.0, 8.0]
    );
    assert_eq!(
        b.extras[1].view::<f64>().unwrap().as_slice().unwrap(),
        &[3.0, 4.0]
    );
    // Keras: multi_output needs y_col to be a list.
    let err = flow(dir.path(), &csv)
        .class_mode(ClassMode::MultiOutput)
        .y_col("t2")
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidParameter { name: "y_col", .. }),
        "{err}"
    );
}

#[test]
fn input_and_none_modes_need_no_label_column() {
    let (dir, csv) = setup("filename", "img/0.png\nimg/1.png\n");
    let datagen = ImageDataGenerator::builder()
        .rotation_range(40.0)
        .build()
        .unwrap();
    let it = datagen
        .flow_from_dataframe(&csv)
        .directory(dir.path())
        .target_size(8, 10)
        .class_mode(ClassMode::Input)
        .seed(1)
        .build()
        .unwrap();
    let b = it.get(0).unwrap();
    assert_eq!(f32s(b.y), b.x.into_dyn());
    let it = flow(dir.path(), &csv)
        .class_mode(ClassMode::None)
        .build()
        .unwrap();
    assert!(it.get(0).unwrap().y.is_none());
    // Categorical needs the `class` column, and says which columns exist.
    let err = flow(dir.path(), &csv).build().unwrap_err();
    assert!(
        matches!(err, Error::InvalidParameter { name: "y_col", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("[\"filename\"]"), "{err}");
}

#[test]
fn weights_travel_with_their_samples_under_shuffling() {
    let (dir, csv) = setup(HEADER, TABLE);
    let it = flow(dir.path(), &csv)
        .weight_col("w")
        .shuffle(true)
        .seed(4)
        .batch_size(4)
        .build()
        .unwrap();
    let weights = [1.5, 2.0, 0.5, 1.0, 3.0, 4.0];
    let mut seen = Vec::new();
    for i in 0..it.len() {
        let b = it.get(i).unwrap();
        let w = f64s(b.sample_weight.clone());
        for (k, &idx) in b.index.iter().enumerate() {
            assert_eq!(id_of(&b, k), idx);
            assert_eq!(w[k], weights[idx]);
            seen.push(idx);
        }
    }
    assert_ne!(seen, vec![0, 1, 2, 3, 4, 5], "shuffled");
    seen.sort();
    assert_eq!(seen, vec![0, 1, 2, 3, 4, 5]);
    // A non-numeric weight column is Keras' TypeError.
    let err = flow(dir.path(), &csv)
        .weight_col("class")
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidParameter {
                name: "weight_col",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn missing_and_non_image_files_are_dropped_with_one_counted_warning() {
    let body = "img/0.png,a\nimg/nope.png,b\nimg/1.png,b\nnotes.txt,a\nimg/2.png,a\n";
    let (dir, csv) = setup("path_for_warn_test,class", body);
    std::fs::write(dir.path().join("notes.txt"), "text").unwrap();
    let _ = logs();
    let it = flow(dir.path(), &csv)
        .x_col("path_for_warn_test")
        .build()
        .unwrap();
    assert_eq!(it.filenames(), &["img/0.png", "img/1.png", "img/2.png"]);
    let warn = "Found 2 invalid image filename(s) in x_col=\"path_for_warn_test\". These filename(s) will be ignored.";
    let found = logs().iter().filter(|m| m.as_str() == warn).count();
    assert_eq!(found, 1, "{:?}", logs());
    // Without validation the missing file stays and its batch names it.
    let it = flow(dir.path(), &csv)
        .x_col("path_for_warn_test")
        .validate_filenames(false)
        .batch_size(2)
        .build()
        .unwrap();
    assert_eq!(it.num_samples(), 5);
    let err = it.get(0).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("nope.png"), "{err}");
    assert!(it.get(2).is_ok());
}

#[test]
fn validation_is_the_first_rows_after_filtering() {
    let body = "img/0.png,a\nimg/gone.png,a\nimg/1.png,b\nimg/2.png,a\nimg/3.png,b\n";
    let (dir, csv) = setup("filename,class", body);
    let datagen = ImageDataGenerator::builder()
        .validation_split(0.5)
        .build()
        .unwrap();
    let sub = |s| {
        datagen
            .flow_from_dataframe(&csv)
            .directory(dir.path())
            .target_size(8, 10)
            .subset(s)
            .shuffle(false)
            .build()
            .unwrap()
    };
    // 4 valid rows → int(2.0) = 2 validation rows.
    assert_eq!(
        sub(Subset::Validation).filenames(),
        &["img/0.png", "img/1.png"]
    );
    assert_eq!(
        sub(Subset::Training).filenames(),
        &["img/2.png", "img/3.png"]
    );
    assert_eq!(sub(Subset::Training).class_names(), &["a", "b"]);
}

#[test]
fn batches_are_bit_identical_for_1_and_2_threads() {
    let (dir, csv) = setup(HEADER, TABLE);
    let datagen = ImageDataGenerator::builder()
        .rotation_range(30.0)
        .zoom_range(0.2)
        .fill_mode(FillMode::Constant)
        .build()
        .unwrap();
    let it: DataFrameIterator = datagen
        .flow_from_dataframe(&csv)
        .directory(dir.path())
        .target_size(96, 120)
        .batch_size(4)
        .seed(9)
        .build()
        .unwrap();
    let run = |t| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
            .install(|| {
                (0..it.len())
                    .map(|i| it.get(i).unwrap())
                    .collect::<Vec<_>>()
            })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn malformed_files_and_cells_are_errors_naming_them() {
    let (dir, csv) = setup("filename,class", "img/0.png,a\nimg/1.png,a,extra\n");
    let err = flow(dir.path(), &csv).build().unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err}");
    assert!(
        err.to_string().contains("labels.csv") && err.to_string().contains("line: 3"),
        "{err}"
    );
    let (dir, csv) = setup("filename,class", "img/0.png,a\nimg/1.png,\n");
    let err = flow(dir.path(), &csv).build().unwrap_err();
    assert!(
        err.to_string().contains("line 3") && err.to_string().contains("empty label"),
        "{err}"
    );
    let err = flow(dir.path(), &dir.path().join("none.csv"))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("none.csv"), "{err}");
    let err = flow(dir.path(), &csv).x_col("file").build().unwrap_err();
    assert!(
        matches!(err, Error::InvalidParameter { name: "x_col", .. }),
        "{err}"
    );
    // Every row dropped: a clear error rather than an empty iterator.
    let (dir, csv) = setup("filename,class", "img/x.png,a\n");
    let err = flow(dir.path(), &csv).build().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Empty {
                name: "dataframe",
                ..
            }
        ),
        "{err}"
    );
}

/// Every file under `root`, as sorted relative paths with `/` separators.
fn files_under(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap();
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn save_to_dir_uses_the_row_class_and_joins_multi_labels() {
    // Row 3 names a missing file and is dropped: indices follow `filenames()`.
    let body = "img/0.png,dog\nimg/1.png,\"['cat', 'dog']\"\nimg/9.png,cat\nimg/2.png,cat\nimg/3.png,dog|cat\n";
    let (dir, csv) = setup("filename,class", body);
    let out = dir.path().join("aug");
    let save = augflow::SaveOptions::new(&out)
        .prefix("s")
        .format(augflow::SaveFormat::Png)
        .per_class_subfolders(true);
    let it = flow(dir.path(), &csv)
        .batch_size(3)
        .save_options(save.clone())
        .build()
        .unwrap();
    let batches: Vec<Batch> = (0..it.len()).map(|i| it.get(i).unwrap()).collect();
    assert_eq!(
        files_under(&out),
        [
            "cat+dog/s_e000_i000001.png",
            "cat+dog/s_e000_i000003.png",
            "cat/s_e000_i000002.png",
            "dog/s_e000_i000000.png",
        ]
    );
    // The saved image is the batch's sample (a flat image stretches to 0; this one is not).
    let img = image::open(out.join("cat/s_e000_i000002.png"))
        .unwrap()
        .to_rgb8();
    let slot = batches[0].x.index_axis(ndarray::Axis(0), 2);
    let (lo, hi) = slot
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, c), &v| (a.min(v), c.max(v)));
    let want = (slot[[3, 4, 1]] - lo) / (hi - lo) * 255.0;
    assert!((img.get_pixel(4, 3)[1] as f32 - want).abs() <= 1.0);
    // Modes without classes save straight into the folder.
    let out2 = dir.path().join("raw");
    let (dir2, csv2) = setup(HEADER, TABLE);
    let it = flow(dir2.path(), &csv2)
        .class_mode(ClassMode::Raw)
        .y_col("t1")
        .save_options(
            augflow::SaveOptions::new(&out2)
                .prefix("r")
                .per_class_subfolders(true),
        )
        .build()
        .unwrap();
    it.get(0).unwrap();
    let want: Vec<String> = (0..6).map(|i| format!("r_e000_i{i:06}.png")).collect();
    assert_eq!(files_under(&out2), want);
}

#[test]
fn half_precision_dataframe_batches_are_the_rounded_f32_batches() {
    let (dir, csv) = setup(HEADER, TABLE);
    let datagen = ImageDataGenerator::builder()
        .rotation_range(30.0)
        .zoom_range(0.2)
        .fill_mode(FillMode::Wrap)
        .rescale(1.0 / 255.0)
        .build()
        .unwrap();
    let build = || {
        datagen
            .flow_from_dataframe(&csv)
            .directory(dir.path())
            .target_size(17, 13)
            .batch_size(4)
            .seed(2)
    };
    let it = build().build().unwrap();
    let h = build().output::<half::f16>().build().unwrap();
    let b = build().output::<half::bf16>().build().unwrap();
    for i in 0..it.len() {
        let w = it.get(i).unwrap();
        assert_eq!(h.get(i).unwrap().x, w.x.mapv(half::f16::from_f32));
        assert_eq!(b.get(i).unwrap().x, w.x.mapv(half::bf16::from_f32));
    }
}
