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
/// environment variable `AUGFLOW_ISA`, to measure or compare the builds on one machine.
/// Returns the build used until now, so a caller can put it back.
///
/// `AUGFLOW_ISA` only gives the build used until the first call of this function; after
/// it, this setting wins, and may also widen the build again up to [`Isa::supported`]. An
/// image already being warped finishes with the build it started with.
///
/// # Errors
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) naming `kernel build` when
/// `isa` is wider than this CPU runs ([`Isa::supported`]); the setting is then unchanged.
///
/// ```
/// use augflow::transform::{Isa, kernel_build, set_kernel_build};
/// let before = set_kernel_build(Isa::Portable)?;
/// assert_eq!(kernel_build(), "portable");
/// set_kernel_build(before)?;
/// assert_eq!(kernel_build(), before.name());
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn set_kernel_build(isa: Isa) -> Result<Isa> {
    let best = Isa::supported();
    if isa > best {
        let runs: Vec<&str> = Isa::ALL
            .iter()
            .filter(|&&i| i <= best)
            .map(|i| i.name())
            .collect();
        return Err(Error::invalid(
            "kernel build",
            isa,
            format!("a build this CPU runs: {}", runs.join(", ")),
        ));
    }
    let before = Isa::current();
    SELECTED.store(isa as u8, Ordering::Relaxed);
    Ok(before)
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
    /// The fast `f32` bilinear arithmetic (`fast::fast_pixel`), through these lanes first.
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
            && output == PixelKind::F32
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
