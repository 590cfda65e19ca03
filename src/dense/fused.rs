//! Fused elementwise kernels of composite ops, one pass over memory and one exponential per
//! element where separate maps would take several.

use super::math::sigmoid_and_prime;
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
        const MAX: usize = 16;
        let k = n - body;
        let mut b7 = [[T::ZERO; MAX]; 7];
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
