//! Fused elementwise kernels of composite ops, one pass over memory and one exponential per
//! element where separate maps would take several.

use super::Accum;
use super::math::{sigmoid_and_prime, tanh_sigmoid_and_primes};
use super::simd::Lanes;
use crate::Float;

/// The vector–Jacobian product of the gated update `y = a h + b σ(z) ⊙ (f − h)`, accumulated:
///
/// ```text
/// gz += g b (f − h) σ′(z),    gf += g b σ(z),    gh += g (a − b σ(z))
/// ```
///
/// with `σ` and `σ′` from one exponential per element.
///
/// # Panics
/// If the slices differ in length.
#[allow(clippy::too_many_arguments)]
pub fn gated_vjp<T: Float>(
    gz: &mut [T],
    gf: &mut [T],
    gh: &mut [T],
    g: &[T],
    z: &[T],
    f: &[T],
    h: &[T],
    a: T,
    b: T,
) {
    let n = g.len();
    assert!(
        [gz.len(), gf.len(), gh.len(), z.len(), f.len(), h.len()]
            .iter()
            .all(|&l| l == n),
        "gated_vjp: lengths differ"
    );
    let (av, bv) = (T::Lanes::splat(a), T::Lanes::splat(b));
    let kernel = |gz: &mut [T], gf: &mut [T], gh: &mut [T], g: &[T], z: &[T], f: &[T], h: &[T]| {
        let (s, sp) = sigmoid_and_prime::<T>(T::Lanes::load(z));
        let gb = T::Lanes::load(g) * bv;
        let (fv, hv) = (T::Lanes::load(f), T::Lanes::load(h));
        (gb * (fv - hv)).mul_add(sp, T::Lanes::load(gz)).store(gz);
        gb.mul_add(s, T::Lanes::load(gf)).store(gf);
        T::Lanes::load(g)
            .mul_add(av - bv * s, T::Lanes::load(gh))
            .store(gh);
    };
    let l = T::Lanes::N;
    let body = n / l * l;
    for i in (0..body).step_by(l) {
        kernel(
            &mut gz[i..],
            &mut gf[i..],
            &mut gh[i..],
            &g[i..],
            &z[i..],
            &f[i..],
            &h[i..],
        );
    }
    if body < n {
        // The tail through zero-padded buffers (padding lanes compute on zeros, discarded).
        let k = n - body;
        let mut b7 = [[T::ZERO; PAD]; 7];
        for (buf, src) in b7.iter_mut().zip([
            &gz[body..],
            &gf[body..],
            &gh[body..],
            &g[body..],
            &z[body..],
            &f[body..],
            &h[body..],
        ]) {
            buf[..k].copy_from_slice(src);
        }
        let [mut bz, mut bf, mut bh, bg, bzv, bfv, bhv] = b7;
        kernel(&mut bz, &mut bf, &mut bh, &bg, &bzv, &bfv, &bhv);
        gz[body..].copy_from_slice(&bz[..k]);
        gf[body..].copy_from_slice(&bf[..k]);
        gh[body..].copy_from_slice(&bh[..k]);
    }
}

/// The mGRU cell in one pass, row by row: with each row of `z` holding `[z_f | z_g]` (`2n`
/// wide, the flow's and the gate's pre-activations from one stacked product),
///
/// ```text
/// y = a h + b σ(z_g) ⊙ (tanh(z_f) − h)
/// ```
///
/// `y` and `h` are `rows × n`; `y`'s old values are not read.
///
/// # Panics
/// If the lengths do not fit `rows × n` and `rows × 2n`.
///
/// # Example
/// ```
/// use neurodyn::dense::gated_tanh;
/// let (z, h) = ([0.5_f64, 0.0], [0.25]); // z_f = 0.5, z_g = 0 (σ = ½)
/// let mut y = [0.0];
/// gated_tanh(&mut y, &z, &h, 1, 1.0, 2.0);
/// assert!((y[0] - (0.25 + 0.5_f64.tanh() - 0.25)).abs() < 1e-15);
/// ```
pub fn gated_tanh<T: Float>(y: &mut [T], z: &[T], h: &[T], n: usize, a: T, b: T) {
    let rows = cell_rows(y.len(), z.len(), h.len(), n, "gated_tanh");
    let (av, bv) = (T::Lanes::splat(a), T::Lanes::splat(b));
    let kernel = |y: &mut [T], zf: &[T], zg: &[T], h: &[T]| {
        let (f, _, s, _) = tanh_sigmoid_and_primes::<T>(T::Lanes::load(zf), T::Lanes::load(zg));
        let hv = T::Lanes::load(h);
        (bv * s).mul_add(f - hv, av * hv).store(y);
    };
    let l = T::Lanes::N;
    let body = n / l * l;
    for r in 0..rows {
        let (yr, hr) = (&mut y[r * n..(r + 1) * n], &h[r * n..(r + 1) * n]);
        let (zf, zg) = z[2 * r * n..2 * (r + 1) * n].split_at(n);
        for i in (0..body).step_by(l) {
            kernel(&mut yr[i..], &zf[i..], &zg[i..], &hr[i..]);
        }
        if body < n {
            let k = n - body;
            let mut b4 = [[T::ZERO; PAD]; 4];
            for (buf, src) in b4[1..]
                .iter_mut()
                .zip([&zf[body..], &zg[body..], &hr[body..]])
            {
                buf[..k].copy_from_slice(src);
            }
            let [mut by, bzf, bzg, bh] = b4;
            kernel(&mut by, &bzf, &bzg, &bh);
            yr[body..].copy_from_slice(&by[..k]);
        }
    }
}

/// [`gated_tanh`] that also writes the cell's local derivatives, so that its vector–Jacobian
/// product needs no exponential ([`gated_tanh_vjp_coefs`]). Row `r` of `coef` (`rows × 3n`)
/// receives `[P | Q | S]`:
///
/// ```text
/// P = b σ(z_g) tanh′(z_f),   Q = b (tanh(z_f) − h) σ′(z_g),   S = a − b σ(z_g)
/// ```
///
/// (`∂y/∂z_f`, `∂y/∂z_g` and `∂y/∂h`, elementwise); `y` is exactly [`gated_tanh`]'s.
///
/// # Panics
/// If the lengths do not fit `rows × n`, `rows × 2n` and `rows × 3n`.
///
/// # Example
/// ```
/// use neurodyn::dense::gated_tanh_coefs;
/// let (z, h) = ([0.5_f64, 0.0], [0.25]); // z_f = 0.5, z_g = 0 (σ = ½, σ′ = ¼)
/// let (mut y, mut coef) = ([0.0], [0.0; 3]);
/// gated_tanh_coefs(&mut y, &mut coef, &z, &h, 1, 1.0, 2.0);
/// let t = 0.5_f64.tanh();
/// assert!((coef[0] - (1.0 - t * t)).abs() < 1e-15); // 2 · ½ · tanh′
/// assert!((coef[1] - 2.0 * (t - 0.25) * 0.25).abs() < 1e-15);
/// assert!((coef[2] - 0.0).abs() < 1e-15); // 1 − 2 · ½
/// ```
pub fn gated_tanh_coefs<T: Float>(
    y: &mut [T],
    coef: &mut [T],
    z: &[T],
    h: &[T],
    n: usize,
    a: T,
    b: T,
) {
    let rows = cell_rows(y.len(), z.len(), h.len(), n, "gated_tanh_coefs");
    assert_eq!(
        coef.len(),
        3 * rows * n,
        "gated_tanh_coefs: coefficients of length {} for rows × 3n = {}",
        coef.len(),
        3 * rows * n
    );
    let (av, bv) = (T::Lanes::splat(a), T::Lanes::splat(b));
    let kernel = |y: &mut [T], c: [&mut [T]; 3], zf: &[T], zg: &[T], h: &[T]| {
        let (f, fp, s, sp) = tanh_sigmoid_and_primes::<T>(T::Lanes::load(zf), T::Lanes::load(zg));
        let hv = T::Lanes::load(h);
        let (bs, d) = (bv * s, f - hv);
        bs.mul_add(d, av * hv).store(y);
        let [p, q, r] = c;
        (bs * fp).store(p);
        (bv * d * sp).store(q);
        (av - bs).store(r);
    };
    let l = T::Lanes::N;
    let body = n / l * l;
    for r in 0..rows {
        let (yr, hr) = (&mut y[r * n..(r + 1) * n], &h[r * n..(r + 1) * n]);
        let (zf, zg) = z[2 * r * n..2 * (r + 1) * n].split_at(n);
        let (cp, rest) = coef[3 * r * n..3 * (r + 1) * n].split_at_mut(n);
        let (cq, cs) = rest.split_at_mut(n);
        for i in (0..body).step_by(l) {
            let c = [&mut cp[i..], &mut cq[i..], &mut cs[i..]];
            kernel(&mut yr[i..], c, &zf[i..], &zg[i..], &hr[i..]);
        }
        if body < n {
            let k = n - body;
            let mut bufs = [[T::ZERO; PAD]; 7];
            for (buf, src) in bufs[4..]
                .iter_mut()
                .zip([&zf[body..], &zg[body..], &hr[body..]])
            {
                buf[..k].copy_from_slice(src);
            }
            let [mut by, mut bp, mut bq, mut bs, bzf, bzg, bh] = bufs;
            kernel(&mut by, [&mut bp, &mut bq, &mut bs], &bzf, &bzg, &bh);
            yr[body..].copy_from_slice(&by[..k]);
            cp[body..].copy_from_slice(&bp[..k]);
            cq[body..].copy_from_slice(&bq[..k]);
            cs[body..].copy_from_slice(&bs[..k]);
        }
    }
}

/// The vector–Jacobian product of the mGRU cell from the coefficients [`gated_tanh_coefs`]
/// wrote, into whichever of `gz` (`rows × 2n`) and `gh` (`rows × n`) is given, each added to
/// ([`Accum::Add`]) or overwritten ([`Accum::Replace`], its old contents never read):
///
/// ```text
/// gz_f += g P,   gz_g += g Q,   gh += g S
/// ```
///
/// # Panics
/// If the lengths do not fit.
///
/// # Example
/// ```
/// use neurodyn::dense::{gated_tanh_vjp_coefs, Accum};
/// let coef = [0.5_f64, 0.25, 2.0]; // P, Q, S of one element
/// let (mut gz, mut gh) = ([1.0, 1.0], [f64::NAN]);
/// gated_tanh_vjp_coefs(
///     Some((&mut gz[..], Accum::Add)),
///     Some((&mut gh[..], Accum::Replace)),
///     &[2.0],
///     &coef,
///     1,
/// );
/// assert_eq!((gz, gh), ([2.0, 1.5], [4.0]));
/// ```
pub fn gated_tanh_vjp_coefs<T: Float>(
    gz: Option<(&mut [T], Accum)>,
    gh: Option<(&mut [T], Accum)>,
    g: &[T],
    coef: &[T],
    n: usize,
) {
    let rows = g.len().checked_div(n).unwrap_or(0);
    assert!(
        n > 0
            && g.len() == rows * n
            && coef.len() == 3 * rows * n
            && gz.as_ref().is_none_or(|s| s.0.len() == 2 * rows * n)
            && gh.as_ref().is_none_or(|s| s.0.len() == rows * n),
        "gated_tanh_vjp_coefs: lengths do not fit rows × {n} (g {}, coef {})",
        g.len(),
        coef.len()
    );
    let (rz, mut gz) = split_accum(gz);
    let (rh, mut gh) = split_accum(gh);
    // `dst = g c` or `dst += g c` (a loop-invariant branch).
    let put = |dst: &mut [T], gv: T::Lanes, c: &[T], replace: bool| {
        let v = if replace {
            gv * T::Lanes::load(c)
        } else {
            gv.mul_add(T::Lanes::load(c), T::Lanes::load(dst))
        };
        v.store(dst);
    };
    // One pass, row by row: a row's three coefficient blocks feed both gradients.
    let l = T::Lanes::N;
    let body = n / l * l;
    for r in 0..rows {
        let gr = &g[r * n..(r + 1) * n];
        let (cp, rest) = coef[3 * r * n..3 * (r + 1) * n].split_at(n);
        let (cq, cs) = rest.split_at(n);
        let mut gzr = gz
            .as_deref_mut()
            .map(|s| s[2 * r * n..2 * (r + 1) * n].split_at_mut(n));
        let mut ghr = gh.as_deref_mut().map(|s| &mut s[r * n..(r + 1) * n]);
        for i in (0..body).step_by(l) {
            let gv = T::Lanes::load(&gr[i..]);
            if let Some((gzf, gzg)) = gzr.as_mut() {
                put(&mut gzf[i..], gv, &cp[i..], rz);
                put(&mut gzg[i..], gv, &cq[i..], rz);
            }
            if let Some(ghr) = ghr.as_mut() {
                put(&mut ghr[i..], gv, &cs[i..], rh);
            }
        }
        let tail = |d: &mut T, gv: T, c: T, replace: bool| {
            *d = if replace { gv * c } else { gv.mul_add(c, *d) };
        };
        for i in body..n {
            let gv = gr[i];
            if let Some((gzf, gzg)) = gzr.as_mut() {
                tail(&mut gzf[i], gv, cp[i], rz);
                tail(&mut gzg[i], gv, cq[i], rz);
            }
            if let Some(ghr) = ghr.as_mut() {
                tail(&mut ghr[i], gv, cs[i], rh);
            }
        }
    }
}

/// `(replace, slice)` of an optional output with its accumulation mode.
fn split_accum<T>(out: Option<(&mut [T], Accum)>) -> (bool, Option<&mut [T]>) {
    match out {
        Some((s, a)) => (a == Accum::Replace, Some(s)),
        None => (false, None),
    }
}

/// The vector–Jacobian product of [`gated_tanh`], accumulated into whichever of `gz`
/// (`rows × 2n`) and `gh` (`rows × n`) is given:
///
/// ```text
/// gz_f += g b σ(z_g) tanh′(z_f),   gz_g += g b (tanh(z_f) − h) σ′(z_g),   gh += g (a − b σ(z_g))
/// ```
///
/// with `tanh`, `tanh′`, `σ`, `σ′` from two exponentials and two divisions, exactly the
/// forward pass's `tanh` and `σ`.
///
/// # Panics
/// If the lengths do not fit.
#[allow(clippy::too_many_arguments)]
pub fn gated_tanh_vjp<T: Float>(
    mut gz: Option<&mut [T]>,
    mut gh: Option<&mut [T]>,
    g: &[T],
    z: &[T],
    h: &[T],
    n: usize,
    a: T,
    b: T,
) {
    let rows = cell_rows(g.len(), z.len(), h.len(), n, "gated_tanh_vjp");
    assert!(
        gz.as_ref().is_none_or(|s| s.len() == z.len())
            && gh.as_ref().is_none_or(|s| s.len() == h.len()),
        "gated_tanh_vjp: gradient lengths differ from their values'"
    );
    let (av, bv) = (T::Lanes::splat(a), T::Lanes::splat(b));
    // (gz_f, gz_g, gh) chunks, each optional; g, z_f, z_g, h chunks.
    let kernel = |gzf: Option<&mut [T]>,
                  gzg: Option<&mut [T]>,
                  gh: Option<&mut [T]>,
                  g: &[T],
                  zf: &[T],
                  zg: &[T],
                  h: &[T]| {
        let gv = T::Lanes::load(g);
        let gb = gv * bv;
        let (f, fp, s, sp) = tanh_sigmoid_and_primes::<T>(T::Lanes::load(zf), T::Lanes::load(zg));
        if let (Some(gzf), Some(gzg)) = (gzf, gzg) {
            (gb * s).mul_add(fp, T::Lanes::load(gzf)).store(gzf);
            let d = f - T::Lanes::load(h);
            (gb * d).mul_add(sp, T::Lanes::load(gzg)).store(gzg);
        }
        if let Some(gh) = gh {
            gv.mul_add(av - bv * s, T::Lanes::load(gh)).store(gh);
        }
    };
    let l = T::Lanes::N;
    let body = n / l * l;
    for r in 0..rows {
        let (zf, zg) = z[2 * r * n..2 * (r + 1) * n].split_at(n);
        let (gr, hr) = (&g[r * n..(r + 1) * n], &h[r * n..(r + 1) * n]);
        let mut gzr = gz
            .as_deref_mut()
            .map(|s| s[2 * r * n..2 * (r + 1) * n].split_at_mut(n));
        let mut ghr = gh.as_deref_mut().map(|s| &mut s[r * n..(r + 1) * n]);
        for i in (0..body).step_by(l) {
            let (gzf, gzg) = match gzr.as_mut() {
                Some((f, g)) => (Some(&mut f[i..]), Some(&mut g[i..])),
                None => (None, None),
            };
            let ghc = ghr.as_deref_mut().map(|s| &mut s[i..]);
            kernel(gzf, gzg, ghc, &gr[i..], &zf[i..], &zg[i..], &hr[i..]);
        }
        if body < n {
            // The tail through zero-padded buffers (padding lanes compute on zeros, discarded).
            let k = n - body;
            let mut bufs = [[T::ZERO; PAD]; 7];
            let srcs: [Option<&[T]>; 3] = [
                gzr.as_ref().map(|(f, _)| &f[body..]),
                gzr.as_ref().map(|(_, g)| &g[body..]),
                ghr.as_deref().map(|s| &s[body..]),
            ];
            for (buf, src) in bufs.iter_mut().zip(srcs) {
                if let Some(src) = src {
                    buf[..k].copy_from_slice(src);
                }
            }
            for (buf, src) in
                bufs[3..]
                    .iter_mut()
                    .zip([&gr[body..], &zf[body..], &zg[body..], &hr[body..]])
            {
                buf[..k].copy_from_slice(src);
            }
            let [mut bgzf, mut bgzg, mut bgh, bg, bzf, bzg, bh] = bufs;
            let with_z = gzr.is_some();
            kernel(
                with_z.then_some(&mut bgzf[..]),
                with_z.then_some(&mut bgzg[..]),
                ghr.is_some().then_some(&mut bgh[..]),
                &bg,
                &bzf,
                &bzg,
                &bh,
            );
            if let Some((f, g)) = gzr.as_mut() {
                f[body..].copy_from_slice(&bgzf[..k]);
                g[body..].copy_from_slice(&bgzg[..k]);
            }
            if let Some(s) = ghr.as_mut() {
                s[body..].copy_from_slice(&bgh[..k]);
            }
        }
    }
}

/// Widest vector of any element type (the padded tail buffers).
const PAD: usize = 16;

/// The number of rows of a cell with outputs of length `out` (`rows × n`), pre-activations of
/// length `z` (`rows × 2n`) and states of length `h`.
#[track_caller]
fn cell_rows(out: usize, z: usize, h: usize, n: usize, what: &str) -> usize {
    let rows = h.checked_div(n).unwrap_or(0);
    assert!(
        n > 0 && out == rows * n && h == rows * n && z == 2 * rows * n,
        "{what}: lengths {out} (output), {z} (pre-activations), {h} (state) do not fit rows × {n} \
         and rows × {}",
        2 * n
    );
    rows
}
