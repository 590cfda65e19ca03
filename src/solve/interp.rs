//! Dense output inside an accepted step, recorded on the tape (so saved points are
//! differentiable).

use super::tableau::{Interp, Tableau};
use crate::Float;
use crate::tape::{Tape, Var};

/// `y(t + θh)` from the step's `y0`, `y1` and stages `ks` (`ks[0] = f(t, y0)`; for FSAL
/// methods `ks[s−1] = f(t + h, y1)`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn dense<T: Float>(
    tape: &mut Tape<T>,
    tab: &Tableau,
    h: T,
    theta: T,
    y0: Var,
    y1: Var,
    ks: &[Var],
    terms: &mut Vec<(Var, T)>,
) -> Var {
    terms.clear();
    match tab.interp {
        Interp::Poly(p) => {
            terms.push((y0, T::ONE));
            for (i, row) in p.iter().enumerate() {
                let mut bi = T::ZERO;
                let mut pow = theta;
                for &c in row {
                    bi += T::from_f64(c) * pow;
                    pow *= theta;
                }
                if bi != T::ZERO {
                    terms.push((ks[i], h * bi));
                }
            }
        }
        Interp::Hermite | Interp::None => {
            // h00 = 2θ³ − 3θ² + 1, h10 = θ³ − 2θ² + θ, h01 = −2θ³ + 3θ², h11 = θ³ − θ²
            let (t2, t3) = (theta * theta, theta * theta * theta);
            let two = T::from_f64(2.0);
            let three = T::from_f64(3.0);
            terms.push((y0, two * t3 - three * t2 + T::ONE));
            terms.push((ks[0], h * (t3 - two * t2 + theta)));
            terms.push((y1, three * t2 - two * t3));
            terms.push((ks[ks.len() - 1], h * (t3 - t2)));
        }
    }
    tape.lin_comb(terms)
}
