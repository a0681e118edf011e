//! The kernel against a literal reading of scipy's algorithm, and its builds, bands and
//! paths against each other.

use super::*;
use crate::transform::fill::axis_taps;
use crate::transform::{Geometry, TransformParams, sampling_map};
use proptest::prelude::*;

/// The plain per-pixel kernel (scipy's algorithm read literally): what every fast path
/// must equal bit for bit.
fn reference(src: &[f32], lay: Layout, warp: &Warp, opts: &WarpOptions) -> Vec<f32> {
    let mut dst = vec![0f32; lay.len()];
    let Layout { h, w, c, chs, .. } = lay;
    for r in 0..h {
        for col in 0..w {
            let rr = if warp.flip_vertical { h - 1 - r } else { r } as f64;
            let cc = if warp.flip_horizontal {
                w - 1 - col
            } else {
                col
            } as f64;
            let o = lay.at(r, col);
            let Some(m) = warp.map else {
                let i = lay.at(rr as usize, cc as usize);
                for ch in 0..c {
                    dst[o + ch * chs] = src[i + ch * chs];
                }
                continue;
            };
            let mut t0 = m.offset[0];
            t0 += rr * m.a[0][0];
            t0 += cc * m.a[0][1];
            let mut t1 = m.offset[1];
            t1 += rr * m.a[1][0];
            t1 += cc * m.a[1][1];
            let taps = axis_taps(t0, h, opts.fill_mode, opts.interpolation).zip(axis_taps(
                t1,
                w,
                opts.fill_mode,
                opts.interpolation,
            ));
            for ch in 0..c {
                let k = ch * chs;
                dst[o + k] = match taps {
                    None => opts.cval as f32,
                    Some(((r0, r1, w0r, w1r), (c0, c1, w0c, w1c))) => {
                        let v = |rr, cc| src[lay.at(rr, cc) + k] as f64;
                        if opts.interpolation == Interpolation::Bilinear {
                            let mut t = 0.0;
                            t += v(r0, c0) * w0r * w0c;
                            t += v(r0, c1) * w0r * w1c;
                            t += v(r1, c0) * w1r * w0c;
                            t += v(r1, c1) * w1r * w1c;
                            t as f32
                        } else {
                            v(r0, c0) as f32
                        }
                    }
                };
            }
        }
    }
    dst
}

fn fill_mode() -> impl Strategy<Value = FillMode> {
    prop_oneof![
        Just(FillMode::Nearest),
        Just(FillMode::Constant),
        Just(FillMode::Reflect),
        Just(FillMode::Wrap)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Cut into bands on a pool of several threads, an image gets the same bits as
    /// warped in one piece: every path (exact, fast, borders, flips) is band-independent.
    #[test]
    fn bands_give_the_same_bits_as_one_piece(
        h in 130usize..200, w in 128usize..180, c in prop_oneof![Just(1usize), Just(3), Just(4)],
        theta in -40.0f64..40.0, shear in -20.0f64..20.0, zx in 0.7f64..1.4,
        fh in any::<bool>(), fv in any::<bool>(), mode in fill_mode(), order0 in any::<bool>(),
        seed in any::<u64>(), fast in any::<bool>(), float_src in any::<bool>(),
    ) {
        let lay = Layout::new(DataFormat::ChannelsLast, h, w, c);
        let mut s = seed | 1;
        let src: Vec<u8> = (0..lay.len()).map(|_| { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s as u8 }).collect();
        let p = TransformParams { theta, tx: 7.0, ty: -5.5, shear, zx, zy: 1.1, ..Default::default() };
        let warp = Warp { map: sampling_map(&p, h, w, Geometry::Corrected), flip_horizontal: fh, flip_vertical: fv };
        let opts = WarpOptions {
            fill_mode: mode,
            cval: 3.0,
            interpolation: if order0 { Interpolation::Nearest } else { Interpolation::Bilinear },
            fast,
            scale: 1.0 / 255.0,
            ..Default::default()
        };
        prop_assert!(bands::band_rows(lay, 4).is_some());
        let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
        let run = |f: &dyn Fn(&mut [MaybeUninit<f32>])| {
            let mut out = vec![MaybeUninit::<f32>::uninit(); lay.len()];
            f(&mut out);
            // SAFETY: the kernel writes every element.
            out.into_iter().map(|v| unsafe { v.assume_init() }.to_bits()).collect::<Vec<u32>>()
        };
        let (banded, whole) = if float_src {
            let src: Vec<f32> = src.iter().map(|&v| v as f32).collect();
            (
                run(&|o| pool.install(|| warp_slice_uninit(&src, o, lay, &warp, &opts))),
                run(&|o| warp_slice_isa(Isa::current(), &src, o, lay, &warp, &opts)),
            )
        } else {
            (
                run(&|o| pool.install(|| warp_slice_uninit(&src, o, lay, &warp, &opts))),
                run(&|o| warp_slice_isa(Isa::current(), &src, o, lay, &warp, &opts)),
            )
        };
        prop_assert!(banded == whole, "banded and whole differ");
    }
}

/// Every build this CPU runs, narrowest first.
fn builds() -> Vec<Isa> {
    [Isa::Portable, Isa::Avx2, Isa::Avx512]
        .into_iter()
        .filter(|&i| i <= Isa::supported())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// `u8` images take the widest lanes (sixteen pixels per AVX-512 step, with a
    /// fallback at the image's last bytes): every build gives the same bits, and the fast
    /// path stays within tolerance of the reference. Sides up to 70 so rows hold several
    /// sixteen-pixel steps and a remainder.
    #[test]
    fn u8_builds_agree_bit_for_bit(
        h in 1usize..70, w in 1usize..70, c in prop_oneof![Just(1usize), Just(3), Just(4)],
        theta in -40.0f64..40.0, tx in -12.0f64..12.0, ty in -12.0f64..12.0,
        shear in -20.0f64..20.0, zx in 0.5f64..1.6, zy in 0.5f64..1.6,
        fh in any::<bool>(), fv in any::<bool>(), mode in fill_mode(),
        seed in any::<u64>(), fast in any::<bool>(), scale in prop_oneof![Just(1.0f64), Just(1.0 / 255.0)],
    ) {
        let lay = Layout::new(DataFormat::ChannelsLast, h, w, c);
        let mut s = seed | 1;
        let src: Vec<u8> = (0..lay.len()).map(|_| { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s as u8 }).collect();
        let p = TransformParams { theta, tx, ty, shear, zx, zy, ..Default::default() };
        let warp = Warp { map: sampling_map(&p, h, w, Geometry::Corrected), flip_horizontal: fh, flip_vertical: fv };
        let opts = WarpOptions { fill_mode: mode, cval: 7.5, fast, scale, ..Default::default() };
        let run = |isa: Isa| {
            let mut out = vec![MaybeUninit::<f32>::uninit(); lay.len()];
            warp_slice_isa(isa, &src, &mut out, lay, &warp, &opts);
            // SAFETY: the kernel writes every element.
            out.into_iter().map(|v| unsafe { v.assume_init() }).collect::<Vec<f32>>()
        };
        let widest = run(Isa::supported());
        let as_f32: Vec<f32> = src.iter().map(|&v| v as f32).collect();
        let plain = WarpOptions { scale: 1.0, ..opts };
        let want = reference(&as_f32, lay, &warp, &plain);
        for (k, (a, b)) in widest.iter().zip(&want).enumerate() {
            let b = b * scale as f32;
            prop_assert!((a - b).abs() <= 2e-4 * (1.0 + b.abs()), "element {}: {} vs {}", k, a, b);
        }
        for isa in builds() {
            // Without FMA hardware there is no fast path, so only the exact result compares.
            if fast && isa == Isa::Portable && cfg!(target_arch = "x86_64") {
                continue;
            }
            let got = run(isa);
            for (k, (a, b)) in got.iter().zip(&widest).enumerate() {
                prop_assert_eq!(a.to_bits(), b.to_bits(), "{:?}, element {}", isa, k);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn kernel_matches_the_reference(
        h in 1usize..24, w in 1usize..24, c in prop_oneof![Just(1usize), Just(2), Just(3), Just(4)],
        first in any::<bool>(),
        theta in -180.0f64..180.0, tx in -8.0f64..8.0, ty in -8.0f64..8.0,
        shear in -30.0f64..30.0, zx in 0.3f64..2.0, zy in 0.3f64..2.0,
        quarter in 0u8..4,
        fh in any::<bool>(), fv in any::<bool>(), mode in fill_mode(), order0 in any::<bool>(),
        keras in any::<bool>(), seed in any::<u64>(), fast in any::<bool>(),
    ) {
        let format = if first { DataFormat::ChannelsFirst } else { DataFormat::ChannelsLast };
        let lay = Layout::new(format, h, w, c);
        let mut s = seed | 1;
        let src: Vec<f32> = (0..lay.len()).map(|_| { s ^= s << 13; s ^= s >> 7; s ^= s << 17; (s % 256) as f32 }).collect();
        // Exact quarter turns and integer shifts land on pixel centres: the fragile cases.
        let theta = if quarter > 0 { 90.0 * quarter as f64 } else { theta };
        let p = TransformParams { theta, tx: tx.round(), ty, shear, zx, zy, ..Default::default() };
        let geometry = if keras { Geometry::Keras } else { Geometry::Corrected };
        let warp = Warp { map: sampling_map(&p, h, w, geometry), flip_horizontal: fh, flip_vertical: fv };
        let opts = WarpOptions {
            fill_mode: mode,
            cval: 7.5,
            interpolation: if order0 { Interpolation::Nearest } else { Interpolation::Bilinear },
            data_format: format,
            fast,
            scale: 1.0,
        };
        let mut got = vec![0f32; lay.len()];
        warp_slice(&src, &mut got, lay, &warp, &opts);
        let want = reference(&src, lay, &warp, &opts);
        for (k, (a, b)) in got.iter().zip(&want).enumerate() {
            if fast {
                // Within the conformance tolerance (1e-3 on 0..255), with margin.
                prop_assert!((a - b).abs() <= 2e-4, "element {}: {} vs {}", k, a, b);
            } else {
                prop_assert_eq!(a.to_bits(), b.to_bits(), "element {}", k);
            }
        }
    }
}

/// `src` warped by build `isa` into a fresh `O` image.
fn warped<T: Pixel, O: WarpOut>(
    isa: Isa,
    src: &[T],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
) -> Vec<O> {
    let mut dst = vec![MaybeUninit::<O>::uninit(); lay.len()];
    warp_slice_isa(isa, src, &mut dst, lay, warp, opts);
    // SAFETY: the kernel writes every element.
    dst.into_iter()
        .map(|v| unsafe { v.assume_init() })
        .collect()
}

/// `u8` output on every build and path, for `u8` input (the gather lanes) or `f32` input
/// on quarter steps (the pair lanes, and many exact halves).
fn check_u8_output<T: Pixel>(
    src: &[T],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
) -> Result<(), TestCaseError> {
    let builds = [Isa::Portable, Isa::Avx2, Isa::Avx512];
    let builds = builds.into_iter().filter(|&i| i <= Isa::supported());
    for isa in builds {
        let bytes: Vec<u8> = warped(isa, src, lay, warp, opts);
        let exact: Vec<f64> = warped(isa, src, lay, warp, opts);
        let single: Vec<f32> = warped(isa, src, lay, warp, opts);
        for (k, &b) in bytes.iter().enumerate() {
            // The exact kernel rounds scipy's f64 value; the fast one its f32 value, except
            // border pixels, which it computes exactly.
            let from_exact = b == u8::from_f64(exact[k]);
            let from_fast = opts.fast && b == u8::from_f32(single[k]);
            prop_assert!(
                from_exact || from_fast,
                "{isa:?} element {k}: {b} from {} / {}",
                exact[k],
                single[k]
            );
        }
        // On x86-64 the portable build has no fast path (see `set_kernel_build`).
        if !(opts.fast && isa == Isa::Portable && cfg!(target_arch = "x86_64")) {
            let widest: Vec<u8> = warped(Isa::supported(), src, lay, warp, opts);
            prop_assert_eq!(&bytes, &widest, "{:?} against the widest build", isa);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// `u8` output is the kernel's value rounded half up and saturated (`WarpOut`), and the
    /// same bytes on every build: lanes and scalar paths round alike.
    #[test]
    fn u8_output_is_the_rounded_value_on_every_build(
        h in 1usize..40, w in 1usize..40, c in prop_oneof![Just(1usize), Just(2), Just(3), Just(4)],
        first in any::<bool>(), float_input in any::<bool>(),
        theta in -180.0f64..180.0, zx in 0.5f64..2.0, shear in -20.0f64..20.0,
        fh in any::<bool>(), mode in fill_mode(), order0 in any::<bool>(),
        fast in any::<bool>(), seed in any::<u64>(), cval in prop_oneof![Just(-3.0f64), Just(127.5), Just(300.0)],
    ) {
        let format = if first { DataFormat::ChannelsFirst } else { DataFormat::ChannelsLast };
        let lay = Layout::new(format, h, w, c);
        let mut s = seed | 1;
        let raw: Vec<u16> = (0..lay.len()).map(|_| { s ^= s << 13; s ^= s >> 7; s ^= s << 17; (s % 1024) as u16 }).collect();
        let p = TransformParams { theta, shear, zx, zy: 1.0 / zx, ty: 0.5, ..Default::default() };
        let warp = Warp { map: sampling_map(&p, h, w, Geometry::Corrected), flip_horizontal: fh, flip_vertical: false };
        let interpolation = if order0 { Interpolation::Nearest } else { Interpolation::Bilinear };
        let opts = WarpOptions { fill_mode: mode, cval, interpolation, data_format: format, fast, scale: 1.0 };
        if float_input {
            let src: Vec<f32> = raw.iter().map(|&v| v as f32 / 4.0 - 2.0).collect();
            check_u8_output(&src, lay, &warp, &opts)?;
        } else {
            let src: Vec<u8> = raw.iter().map(|&v| (v / 4) as u8).collect();
            check_u8_output(&src, lay, &warp, &opts)?;
        }
    }
}

#[test]
fn u8_output_refuses_a_scale() {
    let x = ndarray::Array3::<u8>::zeros((2, 2, 1));
    let opts = WarpOptions::default().scale(1.0 / 255.0);
    let err = warp::<u8, u8>(x.view(), &Warp::default(), &opts).unwrap_err();
    assert!(
        matches!(err, Error::InvalidParameter { name: "scale", .. }),
        "{err}"
    );
    assert!(warp::<u8, f32>(x.view(), &Warp::default(), &opts).is_ok());
}
