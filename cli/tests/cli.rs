//! The `augflow` binary end to end: preview, export (with interruption and resumption), bench,
//! and one-line errors for bad input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use augflow::DynArray;
use augflow::array::write_npz;
use ndarray::{Array1, Array4};

const BIN: &str = env!("CARGO_BIN_EXE_augflow");

fn augflow(cwd: &Path, args: &[&str]) -> Output {
    augflow_env(cwd, args, None)
}

/// Runs the binary with `AUGFLOW_ISA` set to `isa`, or unset.
fn augflow_env(cwd: &Path, args: &[&str], isa: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    match isa {
        Some(v) => cmd.env("AUGFLOW_ISA", v),
        None => cmd.env_remove("AUGFLOW_ISA"),
    };
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run augflow")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

/// A failure with exactly one line on stderr, `augflow: error: …`, and no panic trace.
fn assert_one_line_error(o: &Output) -> String {
    let err = stderr(o);
    assert!(!o.status.success(), "expected failure, got success: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "stderr is not one line: {err:?}");
    assert!(lines[0].starts_with("augflow: error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    lines[0].to_string()
}

/// A deterministic, non-flat RGB image.
fn write_image(path: &Path, w: u32, h: u32, salt: u32) {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 17 + salt * 40) as u8,
            (y * 23 + salt * 7) as u8,
            ((x ^ y) * 9 + salt) as u8,
        ])
    });
    img.save(path).unwrap();
}

fn png_dimensions(path: &Path) -> (u32, u32) {
    image::image_dimensions(path).unwrap()
}

/// Every file below `dir` with its bytes, by path relative to `dir`.
fn files_below(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = match std::fs::read(&p) {
                    Ok(bytes) => bytes,
                    // Polled while `export` runs: a file written atomically (a temporary
                    // then a rename) can go between the listing and the read.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => panic!("{}: {e}", p.display()),
                };
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    out
}

fn images_below(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_below(dir)
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "png"))
        .collect()
}

fn small_tree(root: &Path) {
    for (c, class) in ["cat", "dog"].iter().enumerate() {
        std::fs::create_dir_all(root.join(class)).unwrap();
        for i in 0..3 {
            write_image(
                &root.join(class).join(format!("{i}.png")),
                16,
                12,
                (c * 3 + i) as u32,
            );
        }
    }
}

fn write_dataset_npz(path: &Path, n: usize) {
    let x = Array4::from_shape_fn((n, 8, 10, 3), |(i, r, c, k)| {
        ((i * 31 + r * 7 + c * 13 + k * 50) % 256) as u8
    });
    let y = Array1::from_iter((0..n).map(|i| (i % 2) as i64));
    let dict = BTreeMap::from([
        ("x".to_string(), DynArray::from(x)),
        ("y".to_string(), DynArray::from(y)),
    ]);
    write_npz(path, &dict).unwrap();
}

#[test]
fn preview_with_no_arguments_writes_the_assets_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let o = augflow(dir.path(), &[]);
    assert_ok(&o);
    let out = stdout(&o);
    let sheet = dir.path().join("out/preview.png");
    assert!(out.contains("wrote out/preview.png"), "{out}");
    assert!(out.contains("seed: "), "{out}");
    assert!(out.contains("rotation_range=20.0"), "{out}");
    let assets = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets"))
        .unwrap()
        .filter(|e| {
            let p = e.as_ref().unwrap().path();
            p.extension().is_some_and(|x| x == "png" || x == "jpg")
        })
        .count() as u32;
    // Default cell 160, 6 versions + the original per row, one row per photo under its
    // label, gutters of 6 pixels between cells and around the sheet, a 20-pixel label band.
    assert_eq!(
        png_dimensions(&sheet),
        (6 + 7 * (160 + 6), 6 + assets * (20 + 160 + 6))
    );
    assert!(
        files_below(dir.path())
            .keys()
            .all(|p| !p.to_string_lossy().ends_with(".tmp"))
    );
}

#[test]
fn preview_is_reproducible_from_its_seed_and_saves_images() {
    let dir = tempfile::tempdir().unwrap();
    write_image(&dir.path().join("a.png"), 40, 30, 1);
    write_image(&dir.path().join("b.png"), 20, 20, 2);
    let run = |seed: &str, out: &str| {
        let args = [
            "preview", "a.png", "b.png", "--cell", "24", "-k", "3", "--seed", seed, "--out", out,
        ];
        let o = augflow(dir.path(), &args);
        assert_ok(&o);
        std::fs::read(dir.path().join(out)).unwrap()
    };
    let a = run("9", "s1.png");
    assert_eq!(run("9", "s2.png"), a);
    assert_ne!(run("10", "s3.png"), a);
    assert_eq!(
        png_dimensions(&dir.path().join("s1.png")),
        (6 + 4 * (24 + 6), 6 + 2 * (20 + 24 + 6))
    );

    let o = augflow(
        dir.path(),
        &[
            "a.png",
            "--cell",
            "16",
            "-k",
            "2",
            "--save-images",
            "each",
            "--out",
            "x.png",
        ],
    );
    assert_ok(&o);
    let saved: Vec<String> = files_below(&dir.path().join("each"))
        .keys()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(saved, ["000_a_v1.png", "000_a_v2.png"]);
    // a.png is 40x30: fitted into the 16-pixel cell with its aspect ratio kept.
    assert_eq!(
        png_dimensions(&dir.path().join("each/000_a_v1.png")),
        (16, 12)
    );
}

#[test]
fn preview_reads_json_and_toml_configs_and_flags_override_them() {
    let dir = tempfile::tempdir().unwrap();
    write_image(&dir.path().join("a.png"), 20, 20, 1);
    std::fs::write(
        dir.path().join("c.json"),
        r#"{"rotation_range": 5, "zoom_range": [0.9, 1.2], "fill_mode": "wrap", "vertical_flip": true}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "rotation_range = 5\nfill_mode = \"constant\"\ncval = 128\nbrightness_range = [0.5, 1.5]\n",
    )
    .unwrap();
    let base = ["a.png", "--cell", "16", "-k", "2", "--seed", "1"];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let o = augflow(dir.path(), &args);
        assert_ok(&o);
        stdout(&o)
    };
    let out = with(&["--config", "c.json"]);
    assert!(out.contains("rotation_range=5.0"), "{out}");
    assert!(out.contains("fill_mode=\"wrap\""), "{out}");
    assert!(out.contains("zoom_range=[0.9,1.2]"), "{out}");
    assert!(out.contains("vertical_flip=true"), "{out}");
    assert!(!out.contains("horizontal_flip"), "{out}");
    assert!(out.contains("c.json"), "{out}");
    assert_eq!(
        png_dimensions(&dir.path().join("out/preview.png")),
        (6 + 3 * (16 + 6), 6 + 20 + 16 + 6)
    );

    let out = with(&[
        "--config",
        "c.toml",
        "--rotation-range",
        "7",
        "--cval",
        "0.5",
    ]);
    assert!(out.contains("rotation_range=7.0"), "{out}");
    assert!(out.contains("fill_mode=\"constant\""), "{out}");
    assert!(out.contains("cval=0.5"), "{out}");
    assert!(out.contains("brightness_range=[0.5,1.5]"), "{out}");
}

#[test]
fn bad_config_names_the_unknown_key_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), r#"{"rotation": 20}"#).unwrap();
    std::fs::write(dir.path().join("bad.toml"), "zoom_rnage = 0.1\n").unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\"rotation_range\": ").unwrap();
    let line = assert_one_line_error(&augflow(dir.path(), &["--config", "bad.json"]));
    assert!(line.contains("unknown key `rotation`"), "{line}");
    assert!(line.contains("bad.json"), "{line}");
    assert!(line.contains("rotation_range"), "{line}");
    let line = assert_one_line_error(&augflow(dir.path(), &["--config", "bad.toml"]));
    assert!(line.contains("unknown key `zoom_rnage`"), "{line}");
    assert!(line.contains("did you mean `zoom_range`"), "{line}");
    let line = assert_one_line_error(&augflow(dir.path(), &["--config", "broken.json"]));
    assert!(line.contains("broken.json"), "{line}");
    let line = assert_one_line_error(&augflow(dir.path(), &["--config", "missing.toml"]));
    assert!(line.contains("missing.toml"), "{line}");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn bad_flag_values_and_invalid_parameters_fail_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--fill-mode", "mirror"], "fill_mode"),
        (&["--fill-mode", "sideways"], "sideways"),
        (&["--zoom-range", "a,b"], "--zoom-range"),
        (&["--geometry", "round"], "round"),
        (&["-k", "0"], "--versions"),
        (&["--brightness-range", "0.5"], "--brightness-range"),
        (&["--no-such-flag"], "--no-such-flag"),
        (&["--rotation-range", "nan"], "rotation_range"),
        (&["--shear-range", "-1"], "shear_range"),
        (&["--width-shift-range", "-2"], "width_shift_range"),
        (&["--interpolation-order", "3"], "interpolation_order"),
        (&["--out", "sheet.gif"], "sheet.gif"),
        (&["export", "assets", "-o", "x", "--format", "gif"], "gif"),
        (&["bench", "--small", "--size", "32"], "--size"),
        (&["bench", "--count", "0"], "count"),
    ];
    for (args, needle) in cases {
        let line = assert_one_line_error(&augflow(dir.path(), args));
        assert!(line.contains(needle), "{args:?}: {line}");
    }
}

#[test]
fn unreadable_and_conflicting_inputs_fail_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("corrupt.png"), b"not a png at all").unwrap();
    write_image(&dir.path().join("ok.png"), 8, 8, 0);
    write_dataset_npz(&dir.path().join("d.npz"), 4);
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["missing.png"], "missing.png"),
        (&["corrupt.png"], "corrupt.png"),
        (&["empty"], "empty"),
        (&["ok.png", "d.npz"], "not both"),
        (&["d.npz", "--x-key", "images"], "images"),
        (&["export", "missing-dir", "-o", "out"], "missing-dir"),
        (&["export", "d.npz", "-o", "ok.png"], "ok.png"),
        (
            &["export", "d.npz", "-o", "o", "--labels", "x.npy"],
            "--labels",
        ),
    ];
    for (args, needle) in cases {
        let line = assert_one_line_error(&augflow(dir.path(), args));
        assert!(line.contains(needle), "{args:?}: {line}");
    }
}

#[test]
fn export_of_a_folder_tree_writes_per_class_folders() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    small_tree(&tree);
    let o = augflow(
        dir.path(),
        &[
            "export",
            "tree",
            "-o",
            "aug",
            "--epochs",
            "2",
            "--seed",
            "3",
            "--batch-size",
            "4",
        ],
    );
    assert_ok(&o);
    assert!(stdout(&o).contains("seed: 3"), "{}", stdout(&o));
    let files: Vec<String> = images_below(&dir.path().join("aug"))
        .keys()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    let mut expected = Vec::new();
    for e in 0..2 {
        for i in 0..6 {
            let class = if i < 3 { "cat" } else { "dog" };
            expected.push(format!("{class}/aug_e{e:03}_i{i:06}.png"));
        }
    }
    expected.sort();
    assert_eq!(files, expected);
    assert_eq!(
        png_dimensions(&dir.path().join("aug/dog/aug_e001_i000005.png")),
        (16, 12)
    );

    // Another size needs --size; other formats from the white list.
    write_image(&tree.join("cat/big.png"), 20, 20, 9);
    let line = assert_one_line_error(&augflow(dir.path(), &["export", "tree", "-o", "aug2"]));
    assert!(line.contains("--size"), "{line}");
    let o = augflow(
        dir.path(),
        &[
            "export", "tree", "-o", "aug3", "--size", "10,14", "--format", "jpg", "--seed", "1",
        ],
    );
    assert_ok(&o);
    let p = dir.path().join("aug3/cat/aug_e000_i000000.jpg");
    assert_eq!(png_dimensions(&p), (14, 10));
}

#[test]
fn export_of_an_npz_uses_its_labels_as_class_folders() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset_npz(&dir.path().join("d.npz"), 5);
    let o = augflow(
        dir.path(),
        &[
            "export",
            "d.npz",
            "-o",
            "aug",
            "--seed",
            "1",
            "--rescale",
            "1/255",
        ],
    );
    assert_ok(&o);
    let files: Vec<String> = images_below(&dir.path().join("aug"))
        .keys()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    assert_eq!(
        files,
        [
            "0/aug_e000_i000000.png",
            "0/aug_e000_i000002.png",
            "0/aug_e000_i000004.png",
            "1/aug_e000_i000001.png",
            "1/aug_e000_i000003.png"
        ]
    );
    assert_eq!(
        png_dimensions(&dir.path().join("aug/1/aug_e000_i000003.png")),
        (10, 8)
    );
    // The rescale is undone for the files: not a black image.
    let img = image::open(dir.path().join("aug/0/aug_e000_i000000.png"))
        .unwrap()
        .to_rgb8();
    assert!(img.pixels().any(|p| p.0.iter().any(|&v| v > 64)));
}

/// Runs an export with a pause after each batch, kills it once some files exist, and checks
/// that re-running it yields exactly the files of an uninterrupted run.
#[test]
fn interrupted_export_resumes_to_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset_npz(&dir.path().join("d.npz"), 24);
    let args = |out: &str| -> Vec<String> {
        [
            "export",
            "d.npz",
            "-o",
            out,
            "--epochs",
            "2",
            "--batch-size",
            "3",
            "--seed",
            "77",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    assert_ok(&augflow(
        dir.path(),
        &args("full").iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    let full = images_below(&dir.path().join("full"));
    assert_eq!(full.len(), 48);

    let part = dir.path().join("part");
    export_until_killed(dir.path(), &args("part"), &part, 6);
    let before = images_below(&part).len();
    assert!((6..48).contains(&before), "{before} files after the kill");
    // What a kill during a write leaves behind: a hidden temporary file.
    std::fs::write(part.join("0/.aug_e000_i000004.png.4242.0.tmp"), b"partial").unwrap();

    // A different seed refuses to mix two exports.
    let mut other = args("part");
    let last = other.len() - 1;
    other[last] = "78".into();
    let line = assert_one_line_error(&augflow(
        dir.path(),
        &other.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    assert!(line.contains("--seed 77"), "{line}");

    let o = augflow(
        dir.path(),
        &args("part").iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_ok(&o);
    assert!(stdout(&o).contains("resuming"), "{}", stdout(&o));
    let resumed = files_below(&part);
    assert!(
        resumed
            .keys()
            .all(|p| !p.to_string_lossy().ends_with(".tmp")),
        "{:?}",
        resumed.keys()
    );
    assert_eq!(images_below(&part), full);
    assert_eq!(
        resumed.len(),
        full.len() + 1,
        "only the images and the manifest: {:?}",
        resumed.keys()
    );

    let o = augflow(
        dir.path(),
        &args("part").iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_ok(&o);
    assert!(stdout(&o).contains("nothing to do"), "{}", stdout(&o));
}

/// Runs `augflow args` in `cwd` with a pause after each batch, and kills it (SIGKILL on Unix)
/// once `out` holds at least `files` images.
fn export_until_killed(cwd: &Path, args: &[String], out: &Path, files: usize) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("AUGFLOW_TEST_BATCH_PAUSE_MS", "150")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while images_below_if_any(out) < files {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "export wrote {} files, fewer than {files}",
            images_below_if_any(out)
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "export ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The export manifest of `out`.
fn manifest(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join(".augflow-export.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Killed in its second epoch (of three), an export resumes from the epoch and batch its
/// manifest's iterator state records, and ends with the files of an uninterrupted run.
#[test]
fn export_killed_in_its_second_epoch_resumes_from_the_state() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset_npz(&dir.path().join("d.npz"), 36);
    let args = |out: &str| -> Vec<String> {
        let a = ["export", "d.npz", "-o", out, "--epochs", "3"];
        [
            &a[..],
            &["--batch-size", "3", "--seed", "5", "--zoom-range", "0.2"],
        ]
        .concat()
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |out: &str| {
        augflow(
            dir.path(),
            &args(out).iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    assert_ok(&run("full"));
    let full = images_below(&dir.path().join("full"));
    assert_eq!(full.len(), 108);

    let part = dir.path().join("part");
    // Two batches into epoch 1: its first batch is recorded even if the kill lands between
    // the second batch's files and the manifest.
    export_until_killed(dir.path(), &args("part"), &part, 36 + 6);
    let state = &manifest(&part)["state"];
    assert_eq!(state["epoch"], 1, "killed in the second epoch: {state}");
    assert_eq!(state["seed"], 5);
    let position = state["position"].as_u64().unwrap();
    assert!((1..12).contains(&position), "{state}");
    assert!(images_below(&part).len() < 108);

    let o = run("part");
    assert_ok(&o);
    let done = 36 + 3 * position;
    assert!(
        stdout(&o).contains(&format!("({done} were already there)")),
        "resumed after batch {position} of epoch 1: {}",
        stdout(&o)
    );
    assert_eq!(images_below(&part), full);
    let m = manifest(&part);
    assert_eq!(
        (m["complete"].as_bool(), &m["state"]["epoch"]),
        (Some(true), &2.into())
    );
}

/// Resuming trusts the manifest's state: a file of a batch it records as done is not looked
/// for, so one deleted afterwards stays deleted; without the manifest, the same seed writes
/// every file again, with the same bytes.
#[test]
fn resume_does_not_rescan_the_files_of_batches_already_done() {
    let dir = tempfile::tempdir().unwrap();
    small_tree(&dir.path().join("tree"));
    let args = |epochs: &str| -> Vec<String> {
        [
            "export",
            "tree",
            "-o",
            "aug",
            "--batch-size",
            "4",
            "--seed",
            "8",
            "--epochs",
            epochs,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |epochs: &str| {
        augflow(
            dir.path(),
            &args(epochs).iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    assert_ok(&run("1"));
    let aug = dir.path().join("aug");
    let first = images_below(&aug);
    assert_eq!(first.len(), 6);
    let deleted = aug.join("dog/aug_e000_i000004.png");
    std::fs::remove_file(&deleted).unwrap();

    // One more epoch: only epoch 1 is written.
    let o = run("2");
    assert_ok(&o);
    assert!(stdout(&o).contains("wrote 6 images"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("(6 were already there)"),
        "{}",
        stdout(&o)
    );
    assert!(
        !deleted.exists(),
        "a batch the state records as done was written again"
    );
    assert_eq!(images_below(&aug).len(), 11);
    let o = run("2");
    assert_ok(&o);
    assert!(stdout(&o).contains("nothing to do"), "{}", stdout(&o));
    assert!(!deleted.exists());

    // Without the manifest the export starts over and writes the same bytes.
    std::fs::remove_file(aug.join(".augflow-export.json")).unwrap();
    assert_ok(&run("2"));
    let again = images_below(&aug);
    assert_eq!(again.len(), 12);
    for (path, bytes) in &first {
        assert_eq!(&again[path], bytes, "{}", path.display());
    }
}

/// The manifest compares the input by its files' paths relative to the input folder and
/// their sizes, so an export resumes after the folder moved, or named another way.
#[test]
fn an_export_resumes_from_its_input_folder_moved() {
    let dir = tempfile::tempdir().unwrap();
    small_tree(&dir.path().join("tree"));
    let first = [
        "export",
        "tree",
        "-o",
        "aug",
        "--seed",
        "6",
        "--batch-size",
        "4",
    ];
    assert_ok(&augflow(dir.path(), &first));
    std::fs::rename(dir.path().join("tree"), dir.path().join("moved")).unwrap();
    let moved = dir.path().join("moved");
    let moved = moved.to_str().unwrap();
    let more = ["--seed", "6", "--batch-size", "4", "--epochs", "2"];
    let o = augflow(
        dir.path(),
        &[&["export", moved, "-o", "aug"], &more[..]].concat(),
    );
    assert_ok(&o);
    assert!(
        stdout(&o).contains("(6 were already there)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(images_below(&dir.path().join("aug")).len(), 12);
}

#[test]
fn a_manifest_of_another_version_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    small_tree(&dir.path().join("tree"));
    let aug = dir.path().join("aug");
    std::fs::create_dir(&aug).unwrap();
    let v1 = r#"{"augflow_export": 1, "seed": 3, "epochs": 1, "done": {"epoch": 0, "samples": 4}}"#;
    std::fs::write(aug.join(".augflow-export.json"), v1).unwrap();
    let line = assert_one_line_error(&augflow(dir.path(), &["export", "tree", "-o", "aug"]));
    assert!(line.contains("version 1"), "{line}");
    assert!(line.contains("delete it"), "{line}");
    assert!(images_below(&aug).is_empty(), "nothing written");

    std::fs::write(aug.join(".augflow-export.json"), r#"{"epochs": 1}"#).unwrap();
    let line = assert_one_line_error(&augflow(dir.path(), &["export", "tree", "-o", "aug"]));
    assert!(line.contains("not an augflow export manifest"), "{line}");
}

fn images_below_if_any(dir: &Path) -> usize {
    if dir.is_dir() {
        images_below(dir).len()
    } else {
        0
    }
}

#[test]
fn bench_prints_a_table_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "bench",
        "--size",
        "8",
        "--count",
        "4",
        "--batch",
        "2",
        "--repeats",
        "1",
    ];
    let mut args = base.to_vec();
    args.extend(["--threads", "1,2", "--json"]);
    let o = augflow(dir.path(), &args);
    assert_ok(&o);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["size"], 8);
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
    assert!(v["rows"][1]["augflow"].as_f64().unwrap() > 0.0);

    let o = augflow(dir.path(), &base);
    assert_ok(&o);
    let out = stdout(&o);
    assert!(
        out.contains("threads") && out.contains("floor img/s"),
        "{out}"
    );
    assert!(out.contains("scaling 1 -> 2 threads"), "{out}");
}

#[test]
fn augflow_isa_narrows_the_kernel_build() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "bench",
        "--size",
        "8",
        "--count",
        "2",
        "--batch",
        "2",
        "--repeats",
        "1",
        "--threads",
        "1",
        "--json",
    ];
    let kernel = |isa: Option<&str>| {
        let o = augflow_env(dir.path(), &args, isa);
        assert_ok(&o);
        let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        v["kernel"].as_str().unwrap().to_string()
    };
    let best = kernel(None);
    assert!(
        ["avx512", "avx2", "portable"].contains(&best.as_str()),
        "{best}"
    );
    assert_eq!(kernel(Some("portable")), "portable");
    // Never wider than the CPU runs; an unknown value is ignored.
    assert_eq!(kernel(Some("avx512")), best);
    assert_eq!(kernel(Some("sse9")), best);
    let avx2 = kernel(Some("AVX2"));
    assert_eq!(
        avx2,
        if best == "portable" {
            "portable"
        } else {
            "avx2"
        }
    );
}

#[test]
fn help_and_version_succeed() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["export", "--help"], &["--version"]] {
        let o = augflow(dir.path(), args);
        assert_ok(&o);
        assert!(!stdout(&o).is_empty());
    }
    assert!(stdout(&augflow(dir.path(), &["--help"])).contains("--rotation-range"));
}

#[test]
fn export_resume_error_lists_every_differing_key() {
    let dir = tempfile::tempdir().unwrap();
    small_tree(&dir.path().join("tree"));
    let first = ["export", "tree", "-o", "aug", "--seed", "2"];
    assert_ok(&augflow(
        dir.path(),
        &[&first[..], &["--rotation-range", "10"]].concat(),
    ));
    let again = [
        &first[..],
        &["--rotation-range", "15", "--zoom-range", "0.2"],
    ]
    .concat();
    let line = assert_one_line_error(&augflow(dir.path(), &again));
    assert!(
        line.contains("generator.rotation_range: 10.0 there, 15.0 now"),
        "{line}"
    );
    assert!(line.contains("generator.zoom_range"), "{line}");
    // The state counts batches: another batch size is another export.
    let other_batches = [&first[..], &["--rotation-range", "10", "--batch-size", "5"]].concat();
    let line = assert_one_line_error(&augflow(dir.path(), &other_batches));
    assert!(line.contains("batch_size: 32 there, 5 now"), "{line}");
    // The same settings resume.
    let o = augflow(
        dir.path(),
        &[&first[..], &["--rotation-range", "10"]].concat(),
    );
    assert_ok(&o);
    assert!(stdout(&o).contains("nothing to do"), "{}", stdout(&o));
}

#[test]
fn export_of_loose_images_writes_them_without_class_folders() {
    let dir = tempfile::tempdir().unwrap();
    let loose = dir.path().join("loose");
    std::fs::create_dir_all(loose.join("empty")).unwrap();
    for i in 0..3 {
        write_image(&loose.join(format!("{i}.png")), 9, 7, i);
    }
    let o = augflow(dir.path(), &["export", "loose", "-o", "aug", "--seed", "4"]);
    assert_ok(&o);
    let files: Vec<String> = images_below(&dir.path().join("aug"))
        .keys()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    assert_eq!(
        files,
        [
            "aug_e000_i000000.png",
            "aug_e000_i000001.png",
            "aug_e000_i000002.png"
        ]
    );
    assert_eq!(
        png_dimensions(&dir.path().join("aug/aug_e000_i000002.png")),
        (9, 7)
    );
}

#[test]
fn library_messages_show_with_verbose_and_warnings_hide_with_quiet() {
    let dir = tempfile::tempdir().unwrap();
    small_tree(&dir.path().join("tree"));
    let o = augflow(
        dir.path(),
        &["export", "tree", "-o", "aug", "--seed", "1", "-v"],
    );
    assert_ok(&o);
    assert!(
        stderr(&o).contains("augflow: info: Found 6 images belonging to 2 classes."),
        "{}",
        stderr(&o)
    );
    // A .tiff file makes the library warn (as Keras does): shown by default, hidden by -q.
    write_image(&dir.path().join("tree/cat/x.png"), 16, 12, 7);
    image::open(dir.path().join("tree/cat/x.png"))
        .unwrap()
        .save(dir.path().join("tree/cat/y.tiff"))
        .unwrap();
    let o = augflow(dir.path(), &["export", "tree", "-o", "aug2", "--seed", "1"]);
    assert_ok(&o);
    assert!(
        stderr(&o).contains("augflow: warning: Using \".tiff\" files"),
        "{}",
        stderr(&o)
    );
    let o = augflow(
        dir.path(),
        &["export", "tree", "-o", "aug3", "--seed", "1", "-q"],
    );
    assert_ok(&o);
    assert_eq!(stderr(&o), "");
}

#[test]
fn a_flag_alone_says_that_no_augmentation_is_active() {
    let dir = tempfile::tempdir().unwrap();
    let o = augflow(
        dir.path(),
        &["--rescale", "1/255", "-k", "1", "--seed", "1"],
    );
    assert_ok(&o);
    let out = stdout(&o);
    assert!(out.contains("note: no augmentation is active"), "{out}");
    let o = augflow(dir.path(), &["-k", "1", "--seed", "1"]);
    assert!(!stdout(&o).contains("no augmentation"), "{}", stdout(&o));
}

#[test]
fn preview_skips_a_corrupt_image_with_a_warning_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write_image(&dir.path().join("a.png"), 12, 12, 1);
    std::fs::write(dir.path().join("broken.png"), b"not a png at all").unwrap();
    write_image(&dir.path().join("c.png"), 12, 12, 3);
    let o = augflow(
        dir.path(),
        &[
            ".", "--cell", "12", "-k", "1", "--seed", "1", "--out", "s.png",
        ],
    );
    assert_ok(&o);
    let err = stderr(&o);
    assert!(err.contains("augflow: warning: "), "{err}");
    assert!(err.contains("broken.png"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // Two rows: a.png and c.png.
    assert_eq!(
        png_dimensions(&dir.path().join("s.png")),
        (6 + 2 * (12 + 6), 6 + 2 * (20 + 12 + 6))
    );
    assert!(stdout(&o).contains("2 images"), "{}", stdout(&o));
}

#[test]
fn the_sheet_letterboxes_wide_images_in_square_cells() {
    let dir = tempfile::tempdir().unwrap();
    // A 40x10 image in 20-pixel cells: 20x5, centred, background above and below.
    let img = image::RgbImage::from_pixel(40, 10, image::Rgb([250, 250, 250]));
    img.save(dir.path().join("wide.png")).unwrap();
    let o = augflow(
        dir.path(),
        &[
            "wide.png",
            "--cell",
            "20",
            "-k",
            "1",
            "--seed",
            "1",
            "--out",
            "s.png",
            "--rotation-range",
            "0.0001",
        ],
    );
    assert_ok(&o);
    let sheet = image::open(dir.path().join("s.png")).unwrap().to_rgb8();
    assert_eq!(sheet.dimensions(), (6 + 2 * (20 + 6), 6 + 20 + 20 + 6));
    let top = 6 + 20;
    let px = |x: u32, y: u32| sheet.get_pixel(x, y).0;
    // Original cell (left 6): rows 7..=12 of the cell (of 20) hold the 5 rows of the image.
    assert_eq!(px(6 + 10, top + 10), [250, 250, 250]);
    assert_ne!(px(6 + 10, top + 2), [250, 250, 250]);
    assert_ne!(px(6 + 10, top + 17), [250, 250, 250]);
    // The original's column is framed (in the gutter), the augmented one is not.
    assert_ne!(px(6 + 10, top - 2), px(6 + 26 + 10, top - 2));
}
