//! Replays `../shared/conformance-keras3/` (Keras 3.15.1 reference cases) for the layers
//! `augflow::augment` implements: each case's explicit transformation is converted to
//! per-image [`Params`] and applied with `Op::apply`, then compared within the case's `atol`
//! outside its fragile mask. Geometric layers run through `Augment::transform` with their
//! masks and boxes. A case of a layer not implemented would count as skipped, and fail the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use augflow::array::read_npy;
use augflow::augment::{
    Augment, BoxFormat, Boxes, ChainStep, CutMix, CutMixParams, ElasticNoise, ErasingFill, MixUp,
    MixUpParams, Op, Params, Sample,
};
use ndarray::{Array4, ArrayD, Axis, IxDyn};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance-keras3")
}

fn values(dir: &Path, v: &Value) -> Vec<f64> {
    let file = v["npy"]
        .as_str()
        .expect("transformation arrays name their .npy file");
    read_npy(dir.join(file))
        .and_then(|a| a.values_f64())
        .expect("readable transformation array")
}

fn f32_array(path: &Path) -> ArrayD<f32> {
    let a = read_npy(path).expect("readable .npy");
    let shape = a.shape().to_vec();
    let v: Vec<f32> = a
        .values_f64()
        .expect("numeric")
        .iter()
        .map(|x| *x as f32)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), v).expect("shape")
}

/// One image's parameters from the case's batched transformation.
fn params(
    dir: &Path,
    layer: &str,
    t: &Value,
    b: usize,
    masks: Option<&Array4<bool>>,
    fills: Option<&Array4<f32>>,
) -> Result<Params, String> {
    let at = |key: &str| values(dir, &t[key])[b] as f32;
    let flag = |key: &str| values(dir, &t[key])[b] != 0.0;
    let sub = |key: &str, inner: &str| t.get(key).map(|s| values(dir, &s[inner])[b] as f32);
    Ok(match layer {
        "RandomBrightness" => Params::RandomBrightness {
            rgb_delta: at("rgb_delta"),
        },
        "RandomContrast" => Params::RandomContrast {
            contrast_factor: at("contrast_factor"),
        },
        "RandomSaturation" => Params::RandomSaturation {
            factor: at("factor"),
        },
        "RandomHue" => Params::RandomHue {
            factor: at("factor"),
        },
        "RandomColorJitter" => Params::RandomColorJitter {
            random_brightness: sub("random_brightness", "rgb_delta"),
            random_contrast: sub("random_contrast", "contrast_factor"),
            random_saturation: sub("random_saturation", "factor"),
            random_hue: sub("random_hue", "factor"),
        },
        "RandomGrayscale" => Params::RandomGrayscale {
            should_apply: flag("should_apply"),
        },
        "RandomColorDegeneration" => Params::RandomColorDegeneration {
            factor: at("factor"),
        },
        "RandomSharpness" => Params::RandomSharpness {
            factor: at("factor"),
        },
        "RandomInvert" => Params::RandomInvert {
            apply_inversion: flag("apply_inversion"),
        },
        "RandomPosterization" => Params::RandomPosterization {
            shift_factor: at("shift_factor") as u8,
        },
        "Solarization" => Params::Solarization {
            additions: at("additions"),
            thresholds: at("thresholds"),
        },
        "AutoContrast" => Params::AutoContrast,
        "Equalization" => Params::Equalization,
        "Rescaling" => Params::Rescaling,
        "Normalization" => Params::Normalization,
        "RandomGaussianBlur" => {
            let s = values(dir, &t["blur_factor"]);
            Params::RandomGaussianBlur {
                should_apply_blur: flag("should_apply_blur"),
                blur_factor: [s[0] as f32, s[1] as f32],
            }
        }
        "RandomErasing" => erasing(
            flag("apply_erasing"),
            masks.expect("masks"),
            fills.expect("fills"),
            b,
        )?,
        _ => return Err(format!("no params for {layer}")),
    })
}

/// The rectangle `(rows, cols)` of image `b`'s mask, and its pixel positions.
type Rect = ([usize; 2], [usize; 2], Vec<(usize, usize)>);

fn rectangle(masks: &Array4<bool>, b: usize) -> Result<Rect, String> {
    let (_, h, w, _) = masks.dim();
    let mask = masks.index_axis(Axis(0), b);
    let on: Vec<(usize, usize)> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (y, x)))
        .filter(|&(y, x)| mask[[y, x, 0]])
        .collect();
    let (rows, cols) = match (
        on.iter().map(|p| p.0).min(),
        on.iter().map(|p| p.0).max(),
        on.iter().map(|p| p.1).min(),
        on.iter().map(|p| p.1).max(),
    ) {
        (Some(y0), Some(y1), Some(x0), Some(x1)) => ([y0, y1 + 1], [x0, x1 + 1]),
        _ => ([0, 0], [0, 0]),
    };
    let rect = (rows[1] - rows[0]) * (cols[1] - cols[0]);
    if on.len() != rect {
        return Err("the mask is not a rectangle".into());
    }
    Ok((rows, cols, on))
}

/// Keras stores the erased mask and fill arrays; they are a rectangle and a per-channel constant.
fn erasing(
    apply: bool,
    masks: &Array4<bool>,
    fills: &Array4<f32>,
    b: usize,
) -> Result<Params, String> {
    let (_, h, w, c) = masks.dim();
    let (rows, cols, on) = rectangle(masks, b)?;
    let rect = on.len();
    let fill: Vec<f32> = (0..c)
        .map(|ch| fills[[b, rows[0].min(h - 1), cols[0].min(w - 1), ch]])
        .collect();
    let constant = on
        .iter()
        .all(|&(y, x)| (0..c).all(|ch| fills[[b, y, x, ch]] == fill[ch]));
    if apply && rect > 0 && !constant {
        return Err("noise fill cannot be replayed from a seed".into());
    }
    Ok(Params::RandomErasing {
        apply_erasing: apply,
        rows,
        cols,
        fill_value: ErasingFill::Constant(fill),
    })
}

fn nchw_to_nhwc(a: ArrayD<f32>) -> ArrayD<f32> {
    a.permuted_axes(IxDyn(&[0, 2, 3, 1]))
        .as_standard_layout()
        .to_owned()
}

/// Runs one case; `Ok(None)` when it passes, `Ok(Some(reason))` when it fails.
fn run_case(dir: &Path, case: &Value) -> Result<Option<String>, String> {
    let layer = case["layer"].as_str().unwrap_or_default();
    if layer == "MixUp" || layer == "CutMix" {
        return run_mix(dir, case, layer);
    }
    if GEOMETRIC.contains(&layer) {
        return run_geometric(dir, case, layer);
    }
    if layer == "RandAugment" {
        return run_rand_augment(dir, case);
    }
    if layer == "AugMix" {
        return run_augmix(dir, case);
    }
    let mut config = case["config"].clone();
    let channels_first =
        config.get("data_format").and_then(Value::as_str) == Some("channels_first");
    if let Some(obj) = config.as_object_mut() {
        obj.remove("data_format");
    }
    let op = Op::from_keras(serde_json::json!({"class_name": layer, "config": config}))
        .map_err(|e| e.to_string())?;
    let input = f32_array(
        &dir.join(
            case["inputs"]["images"]["file"]
                .as_str()
                .unwrap_or_default(),
        ),
    );
    // AutoContrast reduces over axes 1 and 2 whatever the layout: run it on the raw array.
    let transpose = channels_first && layer != "AutoContrast";
    let x = if transpose {
        nchw_to_nhwc(input)
    } else {
        input
    };
    let mut x: Array4<f32> = x.into_dimensionality().map_err(|e| e.to_string())?;
    let t = &case["transformation"];
    let (masks, fills) = if layer == "RandomErasing" {
        let m = f32_array(&dir.join(t["batch_masks"]["npy"].as_str().unwrap_or_default()));
        let f = f32_array(&dir.join(t["fill_value"]["npy"].as_str().unwrap_or_default()));
        let (m, f) = if transpose {
            (nchw_to_nhwc(m), nchw_to_nhwc(f))
        } else {
            (m, f)
        };
        let m: Array4<f32> = m.into_dimensionality().map_err(|e| e.to_string())?;
        (
            Some(m.mapv(|v| v != 0.0)),
            Some(
                f.into_dimensionality::<ndarray::Ix4>()
                    .map_err(|e| e.to_string())?,
            ),
        )
    } else {
        (None, None)
    };
    if layer == "Equalization" {
        // One histogram per channel over the whole batch: the batch as one tall image.
        let (b, h, w, c) = x.dim();
        let mut tall = x
            .to_shape((b * h, w, c))
            .map_err(|e| e.to_string())?
            .to_owned();
        op.apply(&Params::Equalization, tall.view_mut())
            .map_err(|e| e.to_string())?;
        x = tall
            .into_shape_with_order((b, h, w, c))
            .map_err(|e| e.to_string())?;
    } else {
        for b in 0..x.len_of(Axis(0)) {
            let p = params(dir, layer, t, b, masks.as_ref(), fills.as_ref())?;
            op.apply(&p, x.index_axis_mut(Axis(0), b))
                .map_err(|e| e.to_string())?;
        }
    }
    let x = if transpose {
        x.permuted_axes([0, 3, 1, 2])
            .as_standard_layout()
            .to_owned()
    } else {
        x
    };
    compare(dir, &case["outputs"]["images"], x.into_dyn())
}

fn permutation(dir: &Path, t: &Value) -> Vec<usize> {
    values(dir, &t["permutation_order"])
        .iter()
        .map(|v| *v as usize)
        .collect()
}

/// MixUp and CutMix act on the batch and its labels; `Ok(Some)` lists what differs.
fn run_mix(dir: &Path, case: &Value, layer: &str) -> Result<Option<String>, String> {
    let outputs = &case["outputs"];
    if outputs.get("images").is_none() {
        return run_mixup_boxes(dir, case);
    }
    let channels_first =
        case["config"].get("data_format").and_then(Value::as_str) == Some("channels_first");
    let input = f32_array(
        &dir.join(
            case["inputs"]["images"]["file"]
                .as_str()
                .unwrap_or_default(),
        ),
    );
    let x = if channels_first {
        nchw_to_nhwc(input)
    } else {
        input
    };
    let mut x: Array4<f32> = x.into_dimensionality().map_err(|e| e.to_string())?;
    let mut y = case["inputs"]
        .get("labels")
        .map(|l| f32_array(&dir.join(l["file"].as_str().unwrap_or_default())));
    let mut y2 = y
        .as_mut()
        .map(|a| a.view_mut().into_dimensionality::<ndarray::Ix2>())
        .transpose()
        .map_err(|e| e.to_string())?;
    let t = &case["transformation"];
    let weights: Vec<f32> = values(dir, &t["mix_weight"])
        .iter()
        .map(|v| *v as f32)
        .collect();
    let permutation_order = permutation(dir, t);
    if layer == "MixUp" {
        let p = MixUpParams {
            mix_weight: weights,
            permutation_order,
        };
        MixUp {
            alpha: case["config"]["alpha"].as_f64().unwrap_or(0.2),
            bounding_box_format: None,
        }
        .apply(&p, x.view_mut(), y2.take())
        .map_err(|e| e.to_string())?;
    } else {
        let m = f32_array(&dir.join(t["batch_masks"]["npy"].as_str().unwrap_or_default()));
        let m = if channels_first { nchw_to_nhwc(m) } else { m };
        let masks = m
            .into_dimensionality::<ndarray::Ix4>()
            .map_err(|e| e.to_string())?
            .mapv(|v| v != 0.0);
        let rects = (0..x.len_of(Axis(0)))
            .map(|b| rectangle(&masks, b))
            .collect::<Result<Vec<_>, _>>()?;
        let p = CutMixParams {
            permutation_order,
            rows: rects.iter().map(|r| r.0).collect(),
            cols: rects.iter().map(|r| r.1).collect(),
            mix_weight: weights,
        };
        CutMix::default()
            .apply(&p, x.view_mut(), y2.take())
            .map_err(|e| e.to_string())?;
    }
    let x = if channels_first {
        x.permuted_axes([0, 3, 1, 2])
            .as_standard_layout()
            .to_owned()
    } else {
        x
    };
    let mut failures = Vec::new();
    failures.extend(compare(dir, &outputs["images"], x.into_dyn())?);
    if let (Some(out), Some(y)) = (outputs.get("labels"), y) {
        failures.extend(compare(dir, out, y)?.map(|f| format!("labels: {f}")));
    }
    Ok((!failures.is_empty()).then(|| failures.join("; ")))
}

/// MixUp's boxes: each image's boxes followed by its partner's. Keras concatenates the box
/// labels along the batch axis, `(2B, N)`: augflow's labels (which follow their boxes) are
/// laid out that way for the comparison.
fn run_mixup_boxes(dir: &Path, case: &Value) -> Result<Option<String>, String> {
    let mixup: MixUp = serde_json::from_value(serde_json::json!({
        "alpha": case["config"]["alpha"],
        "bounding_box_format": case["config"]["bounding_box_format"],
    }))
    .map_err(|e| e.to_string())?;
    let t = &case["transformation"];
    let p = MixUpParams {
        mix_weight: values(dir, &t["mix_weight"])
            .iter()
            .map(|v| *v as f32)
            .collect(),
        permutation_order: permutation(dir, t),
    };
    let inputs = &case["inputs"];
    let batch = p.permutation_order.len();
    let boxes = (0..batch)
        .map(|b| input_boxes(dir, inputs, b)?.ok_or_else(|| "no input boxes".to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let mixed = mixup.mix_boxes(&p, &boxes).map_err(|e| e.to_string())?;
    let out = &case["outputs"]["bounding_boxes"];
    let n = mixed.first().map_or(0, |b| b.boxes.len());
    let flat: Vec<f32> = mixed.iter().flat_map(|b| b.boxes.concat()).collect();
    let flat = ArrayD::from_shape_vec(IxDyn(&[batch, n, 4]), flat).map_err(|e| e.to_string())?;
    let half = n / 2;
    let keras_labels: Vec<f32> = [0, half]
        .iter()
        .flat_map(|&start| {
            mixed
                .iter()
                .flat_map(move |b| b.labels[start..start + half].iter())
        })
        .map(|l| *l as f32)
        .collect();
    let keras_labels = ArrayD::from_shape_vec(IxDyn(&[2 * batch, half]), keras_labels)
        .map_err(|e| e.to_string())?;
    let mut spec = out["boxes"].clone();
    spec["atol"] = out["atol"].clone();
    let mut failures = Vec::new();
    failures.extend(compare(dir, &spec, flat)?.map(|f| format!("boxes: {f}")));
    failures.extend(compare(dir, &out["labels"], keras_labels)?.map(|f| format!("labels: {f}")));
    Ok((!failures.is_empty()).then(|| failures.join("; ")))
}

/// Image `b`'s parameters of a geometric layer from the case's batched transformation.
fn geometric_params(dir: &Path, layer: &str, t: &Value, b: usize) -> Result<Params, String> {
    let row = |key: &str, n: usize| -> Vec<f32> {
        values(dir, &t[key])[b * n..(b + 1) * n]
            .iter()
            .map(|v| *v as f32)
            .collect()
    };
    let corners = |key: &str| -> [[f32; 2]; 4] {
        let v = row(key, 8);
        [0, 1, 2, 3].map(|i| [v[2 * i], v[2 * i + 1]])
    };
    Ok(match layer {
        "RandomFlip" => Params::RandomFlip {
            flips: row("flips", 1)[0] != 0.0,
        },
        "RandomTranslation" => {
            let v = row("translations", 2);
            Params::RandomTranslation {
                translations: [v[0], v[1]],
            }
        }
        "RandomRotation" => Params::RandomRotation {
            angle: row("angle", 1)[0],
        },
        "RandomZoom" => Params::RandomZoom {
            height_zoom: row("height_zoom", 1)[0],
            width_zoom: row("width_zoom", 1)[0],
        },
        "RandomShear" => {
            let v = row("shear_factor", 2);
            Params::RandomShear {
                shear_factor: [v[0], v[1]],
            }
        }
        "RandomPerspective" => Params::RandomPerspective {
            apply_perspective: row("apply_perspective", 1)[0] != 0.0,
            start_points: corners("start_points"),
            end_points: corners("end_points"),
        },
        "RandomCrop" => {
            // A pair of numpy scalars or plain ints, shared by the batch.
            let at = |i: usize| {
                let v = &t[i];
                v.as_f64().unwrap_or_else(|| values(dir, v)[0]) as usize
            };
            Params::RandomCrop {
                h_start: at(0),
                w_start: at(1),
            }
        }
        "CenterCrop" => Params::CenterCrop,
        "Resizing" => Params::Resizing,
        "RandomElasticTransform" => {
            // The captured standard normal fields, (B, H, W): one image's H·W values.
            let shape = &t["noise_dx"]["shape"];
            let n = (shape[1].as_u64().unwrap_or(0) * shape[2].as_u64().unwrap_or(0)) as usize;
            Params::RandomElasticTransform {
                apply_transform: row("apply_transform", 1)[0] != 0.0,
                distortion_factor: values(dir, &t["distortion_factor"])[0] as f32,
                noise: ElasticNoise::Fields {
                    noise_dx: row("noise_dx", n),
                    noise_dy: row("noise_dy", n),
                },
            }
        }
        _ => return Err(format!("no params for {layer}")),
    })
}

/// RandAugment's sub-layers by index: the key of their transformation and their class.
const RAND_AUGMENT_OPS: [(&str, &str); 11] = [
    ("random_shear", "RandomShear"),
    ("random_translation", "RandomTranslation"),
    ("random_rotation", "RandomRotation"),
    ("random_brightness", "RandomBrightness"),
    ("random_color_degeneration", "RandomColorDegeneration"),
    ("random_contrast", "RandomContrast"),
    ("random_sharpness", "RandomSharpness"),
    ("random_posterization", "RandomPosterization"),
    ("solarization", "Solarization"),
    ("auto_contrast", "AutoContrast"),
    ("equalization", "Equalization"),
];

/// RandAugment: each image through the policy with its chosen ops' parameters. Keras
/// equalizes with one histogram over the batch (augflow: per image), so a case choosing
/// Equalization is replayed op by op with the policy's own sub-ops and the batch as one
/// tall image for that op.
fn run_rand_augment(dir: &Path, case: &Value) -> Result<Option<String>, String> {
    let mut config = case["config"].clone();
    if let Some(obj) = config.as_object_mut() {
        obj.remove("data_format");
    }
    let op = Op::from_keras(serde_json::json!({"class_name": "RandAugment", "config": config}))
        .map_err(|e| e.to_string())?;
    let Op::RandAugment(policy) = op else {
        return Err(format!("not RandAugment: {op:?}"));
    };
    let x = f32_array(
        &dir.join(
            case["inputs"]["images"]["file"]
                .as_str()
                .unwrap_or_default(),
        ),
    );
    let mut x: Array4<f32> = x.into_dimensionality().map_err(|e| e.to_string())?;
    let t = &case["transformation"];
    let idxes: Vec<u8> = values(dir, &t["layer_idxes"])
        .iter()
        .map(|v| *v as u8)
        .collect();
    let image_params = |b: usize| -> Result<Vec<Params>, String> {
        idxes
            .iter()
            .map(|&i| {
                let (key, layer) = RAND_AUGMENT_OPS[usize::from(i)];
                let sub = &t["transforms"][key];
                if GEOMETRIC.contains(&layer) {
                    geometric_params(dir, layer, sub, b)
                } else {
                    params(dir, layer, sub, b, None, None)
                }
            })
            .collect()
    };
    let batch = x.len_of(Axis(0));
    if idxes.contains(&10) {
        for (k, &i) in idxes.iter().enumerate() {
            let op = policy.op(usize::from(i)).ok_or("index beyond 11")?;
            if matches!(op, Op::Equalization(_)) {
                let (b, h, w, c) = x.dim();
                let mut tall = x
                    .to_shape((b * h, w, c))
                    .map_err(|e| e.to_string())?
                    .to_owned();
                op.apply(&Params::Equalization, tall.view_mut())
                    .map_err(|e| e.to_string())?;
                x = tall
                    .into_shape_with_order((b, h, w, c))
                    .map_err(|e| e.to_string())?;
                continue;
            }
            for b in 0..batch {
                let p = image_params(b)?.swap_remove(k);
                op.apply(&p, x.index_axis_mut(Axis(0), b))
                    .map_err(|e| e.to_string())?;
            }
        }
    } else {
        let aug = Augment::new()
            .with(Op::RandAugment(policy))
            .map_err(|e| e.to_string())?;
        for b in 0..batch {
            let p = Params::RandAugment {
                layer_idxes: idxes.clone(),
                transforms: image_params(b)?,
            };
            aug.apply(&[p], x.index_axis_mut(Axis(0), b))
                .map_err(|e| e.to_string())?;
        }
    }
    compare(dir, &case["outputs"]["images"], x.into_dyn())
}

/// The policy sub-layer named `key` (Keras' attribute name): its class.
fn policy_class(key: &str) -> Result<&'static str, String> {
    RAND_AUGMENT_OPS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, class)| *class)
        .ok_or_else(|| format!("unknown policy op {key}"))
}

/// Image `b`'s parameters of one policy step `{layer_name, transformation}`.
fn policy_step(dir: &Path, step: &Value, b: usize) -> Result<(String, Params), String> {
    let key = step["layer_name"].as_str().unwrap_or_default();
    let layer = policy_class(key)?;
    let t = &step["transformation"];
    let p = if GEOMETRIC.contains(&layer) {
        geometric_params(dir, layer, t, b)?
    } else {
        params(dir, layer, t, b, None, None)?
    };
    Ok((key.to_string(), p))
}

/// AugMix: each image through the policy with its chains' parameters. Keras equalizes with
/// one histogram over the batch (augflow: per image), so a case whose chains equalize is
/// replayed step by step with AugMix's own sub-ops (the batch as one tall image for that
/// op) and mixed with Keras' formula.
fn run_augmix(dir: &Path, case: &Value) -> Result<Option<String>, String> {
    let mut config = case["config"].clone();
    if let Some(obj) = config.as_object_mut() {
        obj.remove("data_format");
    }
    let op = Op::from_keras(serde_json::json!({"class_name": "AugMix", "config": config}))
        .map_err(|e| e.to_string())?;
    let Op::AugMix(policy) = op.clone() else {
        return Err(format!("not AugMix: {op:?}"));
    };
    let file = case["inputs"]["images"]["file"]
        .as_str()
        .unwrap_or_default();
    let mut x: Array4<f32> = f32_array(&dir.join(file))
        .into_dimensionality()
        .map_err(|e| e.to_string())?;
    let t = &case["transformation"];
    let weights: Vec<f32> = values(dir, &t["chain_mixing_weights"])
        .iter()
        .map(|v| *v as f32)
        .collect();
    let ws = values(dir, &t["weight_sample"])[0] as f32;
    let chains = t["chain_transforms"].as_array().ok_or("chain_transforms")?;
    let steps = |b: usize| -> Result<Vec<Vec<ChainStep>>, String> {
        chains
            .iter()
            .map(|c| {
                let c = c.as_array().ok_or("a chain")?;
                c.iter()
                    .map(|s| {
                        let (layer_name, transformation) = policy_step(dir, s, b)?;
                        Ok(ChainStep {
                            layer_name,
                            transformation,
                        })
                    })
                    .collect()
            })
            .collect()
    };
    let batch = x.len_of(Axis(0));
    let equalizes = chains
        .iter()
        .flat_map(|c| c.as_array().into_iter().flatten())
        .any(|s| s["layer_name"] == "equalization");
    if equalizes {
        let range = policy.value_range.map(|v| v as f32);
        let mut mixed = Array4::<f32>::zeros(x.dim());
        for (c, w) in weights.iter().enumerate() {
            let mut chain = x.clone();
            for k in 0..chains[c].as_array().map_or(0, Vec::len) {
                let per_image: Vec<ChainStep> = (0..batch)
                    .map(|b| steps(b).map(|s| s[c][k].clone()))
                    .collect::<Result<_, _>>()?;
                let sub = policy.op(&per_image[0].layer_name).ok_or("an AugMix op")?;
                replay_step(&sub, &per_image, &mut chain)?;
            }
            mixed.zip_mut_with(&chain, |m, v| *m += v * w);
        }
        x.zip_mut_with(&mixed, |a, m| {
            *a = (ws * *a + (1.0 - ws) * m).clamp(range[0], range[1])
        });
    } else {
        let aug = Augment::new().with(op).map_err(|e| e.to_string())?;
        for b in 0..batch {
            let p = Params::AugMix {
                chain_mixing_weights: weights.clone(),
                weight_sample: ws,
                chain_transforms: steps(b)?,
            };
            aug.apply(&[p], x.index_axis_mut(Axis(0), b))
                .map_err(|e| e.to_string())?;
        }
    }
    compare(dir, &case["outputs"]["images"], x.into_dyn())
}

/// One policy op on a batch: per image, or over the batch as one tall image (Equalization).
fn replay_step(op: &Op, per_image: &[ChainStep], x: &mut Array4<f32>) -> Result<(), String> {
    if matches!(op, Op::Equalization(_)) {
        let (b, h, w, c) = x.dim();
        let mut tall = x
            .to_shape((b * h, w, c))
            .map_err(|e| e.to_string())?
            .to_owned();
        op.apply(&Params::Equalization, tall.view_mut())
            .map_err(|e| e.to_string())?;
        *x = tall
            .into_shape_with_order((b, h, w, c))
            .map_err(|e| e.to_string())?;
        return Ok(());
    }
    for (b, step) in per_image.iter().enumerate() {
        op.apply(&step.transformation, x.index_axis_mut(Axis(0), b))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn box_format(name: &str) -> Result<BoxFormat, String> {
    serde_json::from_value(Value::String(name.into())).map_err(|e| e.to_string())
}

/// Image `b`'s boxes of the case, in the input's format.
fn input_boxes(dir: &Path, inputs: &Value, b: usize) -> Result<Option<Boxes>, String> {
    let Some(spec) = inputs.get("bounding_boxes") else {
        return Ok(None);
    };
    let all = f32_array(&dir.join(spec["boxes"]["file"].as_str().unwrap_or_default()));
    let labels = f32_array(&dir.join(spec["labels"]["file"].as_str().unwrap_or_default()));
    let boxes: Vec<[f32; 4]> = all
        .index_axis(Axis(0), b)
        .outer_iter()
        .map(|r| [r[0], r[1], r[2], r[3]])
        .collect();
    let labels: Vec<i32> = labels
        .index_axis(Axis(0), b)
        .iter()
        .map(|v| *v as i32)
        .collect();
    let format = box_format(spec["format"].as_str().unwrap_or_default())?;
    Boxes::new(format, boxes, labels)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// A geometric layer: images, masks and boxes of every image through `Augment::transform`.
fn run_geometric(dir: &Path, case: &Value, layer: &str) -> Result<Option<String>, String> {
    let mut config = case["config"].clone();
    let channels_first =
        config.get("data_format").and_then(Value::as_str) == Some("channels_first");
    if let Some(obj) = config.as_object_mut() {
        obj.remove("data_format");
    }
    let op = Op::from_keras(serde_json::json!({"class_name": layer, "config": config}))
        .map_err(|e| e.to_string())?;
    let aug = Augment::new().with(op).map_err(|e| e.to_string())?;
    let inputs = &case["inputs"];
    let file = |v: &Value| dir.join(v["file"].as_str().unwrap_or_default());
    let x = f32_array(&file(&inputs["images"]));
    let x = if channels_first { nchw_to_nhwc(x) } else { x };
    let x: Array4<f32> = x.into_dimensionality().map_err(|e| e.to_string())?;
    let masks: Option<Array4<f32>> = inputs
        .get("segmentation_masks")
        .map(|m| f32_array(&file(m)).into_dimensionality())
        .transpose()
        .map_err(|e| e.to_string())?;
    let t = &case["transformation"];
    let (mut images, mut out_masks, mut out_boxes) = (Vec::new(), Vec::new(), Vec::new());
    for b in 0..x.len_of(Axis(0)) {
        let p = geometric_params(dir, layer, t, b)?;
        let mut sample = Sample::new(x.index_axis(Axis(0), b).to_owned());
        if let Some(m) = &masks {
            let m = m.index_axis(Axis(0), b).mapv(|v| v as i32);
            sample = sample.with_mask(m).map_err(|e| e.to_string())?;
        }
        if let Some(boxes) = input_boxes(dir, inputs, b)? {
            sample = sample.with_boxes(boxes);
        }
        let out = aug.transform(&[p], sample).map_err(|e| e.to_string())?;
        images.push(out.image);
        out_masks.extend(out.mask);
        out_boxes.extend(out.boxes);
    }
    let stack = |v: Vec<ndarray::Array3<f32>>| -> Result<Array4<f32>, String> {
        let views: Vec<_> = v.iter().map(|a| a.view()).collect();
        ndarray::stack(Axis(0), &views).map_err(|e| e.to_string())
    };
    let mut x = stack(images)?;
    if inputs["images"]["dtype"] == "uint8" {
        // Keras' integer rule (README §8.8), replayed here: augflow computes in float32.
        let (lo, hi) = (
            f32_array(&file(&inputs["images"])).fold(f32::MAX, |a, v| a.min(*v)),
            f32_array(&file(&inputs["images"])).fold(f32::MIN, |a, v| a.max(*v)),
        );
        x.mapv_inplace(|v| v.round_ties_even().clamp(lo, hi));
    }
    let x = if channels_first {
        x.permuted_axes([0, 3, 1, 2])
            .as_standard_layout()
            .to_owned()
    } else {
        x
    };
    let outputs = &case["outputs"];
    let mut failures = Vec::new();
    if let Some(out) = outputs.get("images") {
        failures.extend(compare(dir, out, x.into_dyn())?);
    }
    if let Some(out) = outputs.get("segmentation_masks") {
        let m = stack(
            out_masks
                .into_iter()
                .map(|m| m.mapv(|v| v as f32))
                .collect(),
        )?;
        failures.extend(compare(dir, out, m.into_dyn())?.map(|f| format!("masks: {f}")));
    }
    if let Some(out) = outputs.get("bounding_boxes") {
        failures.extend(compare_boxes(dir, out, &out_boxes)?);
    }
    Ok((!failures.is_empty()).then(|| failures.join("; ")))
}

fn compare_boxes(dir: &Path, out: &Value, actual: &[Boxes]) -> Result<Option<String>, String> {
    let boxes: Vec<f32> = actual
        .iter()
        .flat_map(|b| b.boxes.iter().flatten().copied())
        .collect();
    let labels: Vec<f32> = actual
        .iter()
        .flat_map(|b| b.labels.iter().map(|l| *l as f32))
        .collect();
    let n = actual.first().map_or(0, |b| b.boxes.len());
    let boxes =
        ArrayD::from_shape_vec(IxDyn(&[actual.len(), n, 4]), boxes).map_err(|e| e.to_string())?;
    let labels =
        ArrayD::from_shape_vec(IxDyn(&[actual.len(), n]), labels).map_err(|e| e.to_string())?;
    let mut spec = out["boxes"].clone();
    spec["atol"] = out["atol"].clone();
    let mut failures = Vec::new();
    failures.extend(compare(dir, &spec, boxes)?.map(|f| format!("boxes: {f}")));
    failures.extend(compare(dir, &out["labels"], labels)?.map(|f| format!("box labels: {f}")));
    // RandomPerspective leaves its result in xyxy whatever the layer's format (README §10).
    let format = if out["boxes"]["file"]
        .as_str()
        .is_some_and(|f| f.contains("RandomPerspective"))
    {
        "xyxy"
    } else {
        out["format"].as_str().unwrap_or_default()
    };
    if let Some(b) = actual.iter().find(|b| Ok(b.format) != box_format(format)) {
        failures.push(format!("boxes in {:?}, expected {format}", b.format));
    }
    Ok((!failures.is_empty()).then(|| failures.join("; ")))
}

fn compare(dir: &Path, out: &Value, actual: ArrayD<f32>) -> Result<Option<String>, String> {
    let expected = f32_array(&dir.join(out["file"].as_str().unwrap_or_default()));
    if expected.shape() != actual.shape() {
        return Ok(Some(format!(
            "shape {:?}, expected {:?}",
            actual.shape(),
            expected.shape()
        )));
    }
    let fragile: Option<Vec<f64>> = out["fragile_mask"].as_str().map(|f| {
        read_npy(dir.join(f))
            .and_then(|a| a.values_f64())
            .expect("fragile mask")
    });
    let atol = out["atol"].as_f64().unwrap_or(0.0);
    let (mut worst, mut bad) = (0f64, 0usize);
    for (i, (a, e)) in actual.iter().zip(expected.iter()).enumerate() {
        if fragile.as_ref().is_some_and(|f| f[i] != 0.0) {
            continue;
        }
        let d = (f64::from(*a) - f64::from(*e)).abs();
        if d.is_nan() || d > atol {
            bad += 1;
            worst = if d.is_nan() {
                f64::INFINITY
            } else {
                worst.max(d)
            };
        }
    }
    Ok((bad > 0).then(|| format!("{bad} elements beyond atol {atol}, max |diff| {worst}")))
}

const GEOMETRIC: [&str; 10] = [
    "RandomElasticTransform",
    "RandomFlip",
    "RandomTranslation",
    "RandomRotation",
    "RandomZoom",
    "RandomShear",
    "RandomPerspective",
    "RandomCrop",
    "CenterCrop",
    "Resizing",
];

const IMPLEMENTED: [&str; 31] = [
    "AugMix",
    "RandomElasticTransform",
    "RandAugment",
    "RandomFlip",
    "RandomTranslation",
    "RandomRotation",
    "RandomZoom",
    "RandomShear",
    "RandomPerspective",
    "RandomCrop",
    "CenterCrop",
    "Resizing",
    "MixUp",
    "CutMix",
    "RandomBrightness",
    "RandomContrast",
    "RandomSaturation",
    "RandomHue",
    "RandomColorJitter",
    "RandomGrayscale",
    "RandomColorDegeneration",
    "RandomSharpness",
    "RandomInvert",
    "RandomPosterization",
    "Solarization",
    "AutoContrast",
    "Equalization",
    "RandomGaussianBlur",
    "RandomErasing",
    "Rescaling",
    "Normalization",
];

#[test]
fn keras3_conformance_cases_pass_for_every_implemented_layer() {
    let dir = root();
    let Ok(text) = std::fs::read_to_string(dir.join("index.json")) else {
        println!("skipped: {} not found", dir.display());
        return;
    };
    let index: Value = serde_json::from_str(&text).expect("index.json is JSON");
    let mut per_layer: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for case in index["cases"].as_array().expect("cases") {
        let layer = case["layer"].as_str().unwrap_or_default().to_string();
        let counts = per_layer.entry(layer.clone()).or_default();
        if !IMPLEMENTED.contains(&layer.as_str()) {
            counts[2] += 1;
            continue;
        }
        match run_case(&dir, case) {
            Ok(None) => counts[0] += 1,
            Err(why) if why.starts_with("SKIP") => {
                println!("skip {}: {why}", case["id"].as_str().unwrap_or_default());
                counts[2] += 1;
            }
            Ok(Some(why)) | Err(why) => {
                println!("FAIL {}: {why}", case["id"].as_str().unwrap_or_default());
                counts[1] += 1;
            }
        }
    }
    let mut total = [0usize; 3];
    for (layer, c) in &per_layer {
        println!(
            "{layer}: {} passed, {} failed, {} skipped",
            c[0], c[1], c[2]
        );
        (0..3).for_each(|i| total[i] += c[i]);
    }
    println!(
        "{} passed, {} failed, {} skipped",
        total[0], total[1], total[2]
    );
    assert_eq!(total[2], 0, "every Keras 3 case is replayed: none skipped");
    for layer in IMPLEMENTED {
        let c = per_layer.get(layer).copied().unwrap_or_default();
        assert!(
            c[0] > 0 && c[1] == 0,
            "{layer}: {} passed, {} failed",
            c[0],
            c[1]
        );
    }
}
