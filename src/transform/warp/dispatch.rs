//! Which build of the kernel runs, and how it computes one image: the instruction set (a
//! process-wide setting) and the [`KernelChoice`] made from it once per image.

use std::sync::atomic::{AtomicU8, Ordering};

use super::{Warp, WarpOptions};
use crate::transform::pixel::{Layout, PixelKind};
use crate::transform::{FillMode, Interpolation};
use crate::{Error, Result};

/// An instruction set the warp kernel has a build for, narrowest first (so `a < b` means `a`
/// is narrower). Every build gives the same bits, except that on x86-64 the portable build
/// has no fast path: [`WarpOptions::fast`] then falls back to the exact arithmetic.
///
/// ```
/// use augflow::transform::Isa;
/// assert!(Isa::Portable < Isa::Avx2 && Isa::Avx2 < Isa::Avx512);
/// assert!(Isa::supported() >= Isa::Portable);
/// assert_eq!(Isa::Avx2.name(), "avx2");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Isa {
    /// Plain Rust (and, on x86-64, no fast path: `f32::mul_add` without FMA hardware is a
    /// library call).
    Portable,
    /// x86-64 with AVX2 and FMA.
    Avx2,
    /// x86-64 with AVX2, FMA and AVX-512 F, BW and VBMI.
    Avx512,
}

impl Isa {
    /// The widest build this CPU runs (detection is cached by the standard library).
    ///
    /// ```
    /// use augflow::transform::Isa;
    /// // The portable build runs everywhere.
    /// assert!(Isa::Portable <= Isa::supported());
    /// ```
    pub fn supported() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") {
                if has!("avx512f") && has!("avx512bw") && has!("avx512vbmi") {
                    return Isa::Avx512;
                }
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }

    /// The build's name, as [`kernel_build`] and the environment variable `AUGFLOW_ISA`
    /// spell it: `"portable"`, `"avx2"` or `"avx512"`.
    ///
    /// ```
    /// assert_eq!(augflow::transform::Isa::Avx512.name(), "avx512");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL
            .into_iter()
            .find(|i| i.name() == name.trim().to_ascii_lowercase())
    }

    /// The build the kernel uses now: the last [`set_kernel_build`], or else the one
    /// `AUGFLOW_ISA` asks for (read once, at the first use), or else [`Isa::supported`].
    pub(crate) fn current() -> Isa {
        match SELECTED.load(Ordering::Relaxed) {
            UNSET => {
                let from_env = Isa::from_env();
                // A concurrent `set_kernel_build` wins over the environment.
                let _ = SELECTED.compare_exchange(
                    UNSET,
                    from_env as u8,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
                Isa::from_u8(SELECTED.load(Ordering::Relaxed))
            }
            v => Isa::from_u8(v),
        }
    }

    /// [`Isa::supported`], or narrower where `AUGFLOW_ISA` asks for it.
    fn from_env() -> Isa {
        let best = Isa::supported();
        let Ok(v) = std::env::var("AUGFLOW_ISA") else {
            return best;
        };
        match Isa::from_name(&v) {
            Some(cap) => cap.min(best),
            None => {
                log::warn!(
                    "AUGFLOW_ISA={v:?} ignored: expected portable, avx2 or avx512; using {}",
                    best.name()
                );
                best
            }
        }
    }

    fn from_u8(v: u8) -> Isa {
        Isa::ALL[v as usize]
    }
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// [`Isa::current`]'s value as `Isa as u8`, or [`UNSET`] before the first use.
static SELECTED: AtomicU8 = AtomicU8::new(UNSET);
const UNSET: u8 = u8::MAX;

/// The name of the kernel build this process uses now: `"avx512"`, `"avx2"` or
/// `"portable"` — the widest the CPU runs, unless the environment variable `AUGFLOW_ISA` or
/// [`set_kernel_build`] asks for a narrower one. The AVX-512 and AVX2 builds give the same
/// bits; the portable build on x86-64 has no fast path, so the default geometry's values then
/// differ slightly (within about `2e-4` on a 0..255 scale). Benchmarks print it.
///
/// ```
/// let b = augflow::transform::kernel_build();
/// assert!(["avx512", "avx2", "portable"].contains(&b));
/// ```
pub fn kernel_build() -> &'static str {
    Isa::current().name()
}

/// Chooses the kernel build for the rest of the process (every thread), in place of the
/// environment variable `AUGFLOW_ISA`, to measure or compare the builds on one machine
/// (like fast_image_resize's `set_cpu_extensions`). Returns the build used until now, so a
/// caller can put it back.
///
/// `AUGFLOW_ISA` only gives the build used until the first call of this function; after
/// it, this setting wins, and may also widen the build again up to [`Isa::supported`]. An
/// image already being warped finishes with the build it started with.
///
/// What a narrower build changes: nothing between AVX-512 and AVX2 (the same bits); on
/// x86-64 the portable build has no fast path, so [`WarpOptions::fast`] then gives the
/// exact values.
///
/// # Errors
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) naming `kernel build` when
/// `isa` is wider than this CPU runs ([`Isa::supported`]); the setting is then unchanged.
///
/// ```
/// use augflow::transform::{Isa, Warp, WarpOptions, kernel_build, sampling_map, set_kernel_build, warp};
/// use augflow::{Geometry, TransformParams};
/// use ndarray::Array3;
///
/// let x = Array3::from_shape_fn((32, 32, 3), |(r, c, ch)| (7 * r + 3 * c + 50 * ch) as u8);
/// let p = TransformParams { theta: 20.0, zx: 0.9, ..Default::default() };
/// let w = Warp { map: sampling_map(&p, 32, 32, Geometry::Keras), ..Default::default() };
/// let (exact, fast) = (WarpOptions::default(), WarpOptions::default().fast(true));
///
/// let before = set_kernel_build(Isa::supported())?;
/// let widest: Array3<f32> = warp(x.view(), &w, &fast)?;
/// let exact_values: Array3<f32> = warp(x.view(), &w, &exact)?;
/// if Isa::supported() >= Isa::Avx2 {
///     // The fast path rounds differently from the exact one...
///     assert_ne!(widest, exact_values);
///     // ...but every vector build gives the same bits.
///     set_kernel_build(Isa::Avx2)?;
///     assert_eq!(kernel_build(), "avx2");
///     assert_eq!(warp::<u8, f32>(x.view(), &w, &fast)?, widest);
/// }
/// set_kernel_build(Isa::Portable)?;
/// assert_eq!(kernel_build(), "portable");
/// let portable: Array3<f32> = warp(x.view(), &w, &fast)?;
/// if cfg!(target_arch = "x86_64") {
///     // No fast path in the portable x86-64 build: the exact values.
///     assert_eq!(portable, exact_values);
/// }
/// set_kernel_build(before)?;
/// assert_eq!(kernel_build(), before.name());
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn set_kernel_build(isa: Isa) -> Result<Isa> {
    check_runs(isa, Isa::supported())?;
    let before = Isa::current();
    SELECTED.store(isa as u8, Ordering::Relaxed);
    Ok(before)
}

/// `Ok` when a CPU whose widest build is `best` runs `isa`.
fn check_runs(isa: Isa, best: Isa) -> Result<()> {
    if isa <= best {
        return Ok(());
    }
    let runs: Vec<&str> = Isa::ALL
        .iter()
        .filter(|&&i| i <= best)
        .map(|i| i.name())
        .collect();
    Err(Error::invalid(
        "kernel build",
        isa,
        format!("a build this CPU runs: {}", runs.join(", ")),
    ))
}

/// The channels-last specializations of the kernel (the const `C` of its loops): 1, 3 or
/// 4 channels at a pixel stride equal to the channel count, or 0 for any other layout.
pub(crate) fn specialized_channels(lay: Layout) -> usize {
    // A 1x1 channels-first image also has a unit channel stride, but a pixel stride of 1.
    let channels_last = lay.chs == 1 && lay.cs == lay.c;
    match lay.c {
        1 | 3 | 4 if channels_last => lay.c,
        _ => 0,
    }
}

/// Which fast lane kernels a row may use, widest first (each one does whole steps, and the
/// next one takes over where it stops).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct FastLanes {
    /// `x86::avx512_u8::bilinear_span_u8`, sixteen `u8` pixels per step (AVX-512).
    pub wide: bool,
    /// `x86::avx2_u8::bilinear_span_u8`, eight `u8` pixels per step (AVX2 and FMA).
    pub gathers: bool,
    /// `x86::avx2::bilinear_span_f32`, four pixels per step, two per register (AVX2, FMA).
    pub pairs: bool,
}

/// How the pixels inside a row's interior span (all four taps in the image) are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interior {
    /// No resampling map: each pixel is copied to its flipped place.
    Copy,
    /// scipy's arithmetic bit for bit; `span4`: four bilinear pixels per AVX2 step
    /// (`x86::avx2::bilinear_span`) before the per-pixel loop.
    Exact { span4: bool },
    /// The fast `f32` bilinear arithmetic (`fast::fast_pixel`), through these lanes first;
    /// `f32` or `u8` output.
    Fast(FastLanes),
}

/// How the pixels outside a row's interior span are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Border {
    /// No border: the copy (no map) has none.
    None,
    /// scipy's boundary rules pixel by pixel (`exact::border_pixel`), or the fast value
    /// where a pixel turns out interior after all (the span is conservative).
    Scipy,
    /// Fast bilinear with nearest fill: clamping the coordinate to the image gives scipy's
    /// clamped taps, so the fast interior kernel walks the whole row (sides at least 2).
    Clamped,
}

/// How the kernel computes one image, decided once before any pixel (and the same for
/// every band of it).
///
/// Invariant the kernel's `unsafe` blocks rely on: a flag that needs CPU features is only
/// set when `isa` has them (`pixel_lanes`, `span4`, `gathers` and `pairs` need
/// [`Isa::Avx2`], `wide` needs [`Isa::Avx512`]), and the kernel only runs a choice whose
/// `isa` is at most [`Isa::supported`]. [`KernelChoice::new`] is its only constructor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KernelChoice {
    /// The build, and so the `#[target_feature]` function the kernel is inlined into.
    pub isa: Isa,
    /// See [`specialized_channels`].
    pub channels: usize,
    /// A pixel's 3 or 4 channels in one `f64x4` register (exact interior and border
    /// pixels, `x86::avx2::bilinear_write`): the write spills into the next element.
    pub pixel_lanes: bool,
    /// The interior span's path.
    pub interior: Interior,
    /// The border's path.
    pub border: Border,
}

impl KernelChoice {
    /// The choice for an image of `lay`, with `input` and `output` element types, on `isa`.
    pub(crate) fn new(
        isa: Isa,
        lay: Layout,
        warp: &Warp,
        opts: &WarpOptions,
        (input, output): (PixelKind, PixelKind),
    ) -> KernelChoice {
        let channels = specialized_channels(lay);
        let x86 = cfg!(target_arch = "x86_64");
        let avx2 = x86 && isa >= Isa::Avx2;
        // Lanes index with i32 offsets.
        let small = lay.len() < i32::MAX as usize;
        let bilinear = opts.interpolation == Interpolation::Bilinear;
        let pixel_lanes = avx2 && (channels == 3 || channels == 4);
        // On x86-64 only where FMA is in hardware.
        let fast = bilinear
            && opts.fast
            && matches!(output, PixelKind::F32 | PixelKind::U8)
            && input != PixelKind::F64
            && (avx2 || !x86);
        let (interior, border) = match warp.map {
            None => (Interior::Copy, Border::None),
            Some(_) if fast => {
                let gathers = avx2 && input == PixelKind::U8 && channels > 0 && small;
                let lanes = FastLanes {
                    wide: gathers && isa >= Isa::Avx512,
                    gathers,
                    pairs: pixel_lanes && small,
                };
                let clamped = opts.fill_mode == FillMode::Nearest && lay.h >= 2 && lay.w >= 2;
                let border = if clamped {
                    Border::Clamped
                } else {
                    Border::Scipy
                };
                (Interior::Fast(lanes), border)
            }
            Some(_) => {
                let span4 = pixel_lanes && bilinear && small;
                (Interior::Exact { span4 }, Border::Scipy)
            }
        };
        KernelChoice {
            isa,
            channels,
            pixel_lanes,
            interior,
            border,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::{DataFormat, SamplingMap};
    use Border::Clamped;
    use PixelKind::{F32, U8};

    /// One request: the build, the image (format, side, channels), the element types, and
    /// the options that matter to the choice.
    #[derive(Clone, Copy)]
    struct Request {
        isa: Isa,
        first: bool,
        side: usize,
        c: usize,
        types: (PixelKind, PixelKind),
        map: bool,
        order0: bool,
        fill: FillMode,
        fast: bool,
    }

    /// The benchmark's request: a 224x224x3 `u8` image to `f32`, bilinear, nearest fill,
    /// exact, on AVX-512.
    const BASE: Request = Request {
        isa: Isa::Avx512,
        first: false,
        side: 224,
        c: 3,
        types: (U8, F32),
        map: true,
        order0: false,
        fill: FillMode::Nearest,
        fast: false,
    };

    fn choose(q: Request) -> KernelChoice {
        let format = if q.first {
            DataFormat::ChannelsFirst
        } else {
            DataFormat::ChannelsLast
        };
        let lay = Layout::new(format, q.side, q.side, q.c);
        let warp = Warp {
            map: q.map.then(|| SamplingMap {
                a: [[1.0, 0.1], [0.0, 1.0]],
                offset: [0.5, -0.5],
            }),
            ..Default::default()
        };
        let interpolation = if q.order0 {
            Interpolation::Nearest
        } else {
            Interpolation::Bilinear
        };
        let opts = WarpOptions {
            fill_mode: q.fill,
            interpolation,
            fast: q.fast,
            ..Default::default()
        };
        KernelChoice::new(q.isa, lay, &warp, &opts, q.types)
    }

    /// The channel specialization, `pixel_lanes`, the interior and the border.
    type Expected = (usize, bool, Interior, Border);

    fn lanes(wide: bool, gathers: bool, pairs: bool) -> Interior {
        Interior::Fast(FastLanes {
            wide,
            gathers,
            pairs,
        })
    }

    /// Every request maps to the specialization, lanes and paths in its row: the table is
    /// the kernel's dispatch, read in one place.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn kernel_choice_table() {
        use Border::Scipy;
        use Isa::{Avx2, Portable};
        use PixelKind::F64;
        let exact = |span4| Interior::Exact { span4 };
        let fast = Request { fast: true, ..BASE };
        // A side whose square holds more than i32::MAX elements: no i32-indexed lanes.
        let huge = 50_000;
        #[rustfmt::skip]
        let table: &[(&str, Request, Expected)] = &[
            ("exact, AVX-512", BASE, (3, true, exact(true), Scipy)),
            ("exact, AVX2", Request { isa: Avx2, ..BASE }, (3, true, exact(true), Scipy)),
            ("exact, portable", Request { isa: Portable, ..BASE }, (3, false, exact(false), Scipy)),
            ("exact, order 0", Request { order0: true, ..BASE }, (3, true, exact(false), Scipy)),
            ("exact, 4 channels", Request { c: 4, ..BASE }, (4, true, exact(true), Scipy)),
            ("exact, 1 channel", Request { c: 1, ..BASE }, (1, false, exact(false), Scipy)),
            ("exact, 2 channels", Request { c: 2, ..BASE }, (0, false, exact(false), Scipy)),
            ("exact, channels-first", Request { first: true, ..BASE }, (0, false, exact(false), Scipy)),
            ("exact, 1x1 channels-first", Request { first: true, side: 1, ..BASE }, (0, false, exact(false), Scipy)),
            ("exact, huge", Request { side: huge, ..BASE }, (3, true, exact(false), Scipy)),
            ("no map: a copy", Request { map: false, ..fast }, (3, true, Interior::Copy, Border::None)),
            ("fast u8, AVX-512", fast, (3, true, lanes(true, true, true), Clamped)),
            ("fast u8, AVX2", Request { isa: Avx2, ..fast }, (3, true, lanes(false, true, true), Clamped)),
            ("fast, portable x86: exact", Request { isa: Portable, ..fast }, (3, false, exact(false), Scipy)),
            ("fast, constant fill", Request { fill: FillMode::Constant, ..fast }, (3, true, lanes(true, true, true), Scipy)),
            ("fast, one row", Request { side: 1, ..fast }, (3, true, lanes(true, true, true), Scipy)),
            ("fast f32 input", Request { types: (F32, F32), ..fast }, (3, true, lanes(false, false, true), Clamped)),
            ("fast f64 input: exact", Request { types: (F64, F32), ..fast }, (3, true, exact(true), Scipy)),
            ("fast f64 output: exact", Request { types: (U8, F64), ..fast }, (3, true, exact(true), Scipy)),
            ("fast u8 output, AVX-512", Request { types: (U8, U8), ..fast }, (3, true, lanes(true, true, true), Clamped)),
            ("fast u8 output, AVX2", Request { isa: Avx2, types: (U8, U8), ..fast }, (3, true, lanes(false, true, true), Clamped)),
            ("exact u8 output", Request { types: (U8, U8), ..BASE }, (3, true, exact(true), Scipy)),
            ("fast order 0: exact", Request { order0: true, ..fast }, (3, true, exact(false), Scipy)),
            ("fast u8, 1 channel", Request { c: 1, ..fast }, (1, false, lanes(true, true, false), Clamped)),
            ("fast u8, 2 channels", Request { c: 2, ..fast }, (0, false, lanes(false, false, false), Clamped)),
            ("fast, channels-first", Request { first: true, ..fast }, (0, false, lanes(false, false, false), Clamped)),
            ("fast, huge", Request { side: huge, c: 1, ..fast }, (1, false, lanes(false, false, false), Clamped)),
        ];
        for &(name, q, (channels, pixel_lanes, interior, border)) in table {
            let want = KernelChoice {
                isa: q.isa,
                channels,
                pixel_lanes,
                interior,
                border,
            };
            assert_eq!(choose(q), want, "{name}");
        }
    }

    /// Elsewhere the portable build has the fast path (`f32::mul_add` is an instruction).
    #[test]
    #[cfg(not(target_arch = "x86_64"))]
    fn portable_build_takes_the_fast_path_off_x86() {
        let q = Request {
            isa: Isa::Portable,
            fast: true,
            ..BASE
        };
        let want = KernelChoice {
            isa: Isa::Portable,
            channels: 3,
            pixel_lanes: false,
            interior: lanes(false, false, false),
            border: Clamped,
        };
        assert_eq!(choose(q), want);
    }

    #[test]
    fn a_build_wider_than_the_cpu_runs_is_refused_by_name() {
        let err = check_runs(Isa::Avx512, Isa::Avx2).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidParameter { name: "kernel build", value, expected }
                if value == "avx512" && expected.ends_with("portable, avx2")),
            "{err:?}"
        );
        assert!(check_runs(Isa::Avx2, Isa::Portable).is_err());
        for isa in Isa::ALL {
            assert!(check_runs(isa, Isa::Avx512).is_ok());
            assert!(check_runs(Isa::Portable, isa).is_ok());
        }
    }

    #[test]
    fn build_names_parse_back() {
        for isa in Isa::ALL {
            assert_eq!(Isa::from_name(isa.name()), Some(isa));
            assert_eq!(isa.to_string(), isa.name());
        }
        assert_eq!(Isa::from_name(" AVX2 "), Some(Isa::Avx2));
        assert_eq!(Isa::from_name("sse4"), None);
    }
}
