//! The GDM's parameters: names and shapes (SPEC §6.1, §7), the authors' initialisation, and
//! recording on a tape.
//!
//! ```text
//! name        stored        SPEC shape        init (authors' unless marked)
//! F           D × N         [D][N]            0.1·N(0,1)
//! R           K × D         [K][D]            N(0,1)
//! r           1 × K         [K]               0
//! gamma       1 × 1         scalar            0.1
//! logits_z1   1 × K         [K]               0
//! S           K·N × L·D     [K][N][L·D]       S_{k,l} = C A_{k,l}, C ~ N(0,1) N×D, A random orthogonal
//! b           1 × K·N       [K][N]            0
//! mu_init     1 × K·N       [K][N]            N(0,1)
//! log_var     1 × N         [N]               −1 + U(0,1)            (Gaussian only)
//! V           K·N × I       [K][N][I]         0.1·N(0,1)             (inputs only)
//! R_u         K × I         [K][I]            0 (ours)               (inputs only)
//! q.W, q.b    K × N, 1 × K  [K][N], [K]       0.8·N(0,1), 0          (per-step posterior)
//! q.fwd.Wx    3H × N        q.fwd.Wh 3H × H, q.fwd.b [3H]; q.bwd.* the same;
//! q.out.W     K × 2H        q.out.b [K]       Glorot uniform, 0 (ours) (bidirectional GRU)
//! ```

use super::config::{Emission, GdmConfig, PosteriorKind};
use crate::Float;
use crate::models::init;
use crate::tape::{ParamId, ParamStore, Tape, Var};
use rand::{Rng, RngExt};

/// Ids of the parameters in the store.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ids {
    pub f: ParamId,
    pub r_mat: ParamId,
    pub r_bias: ParamId,
    pub gamma: ParamId,
    pub logits_z1: ParamId,
    pub s: ParamId,
    pub b: ParamId,
    pub mu_init: ParamId,
    pub log_var: Option<ParamId>,
    pub v: Option<ParamId>,
    pub r_u: Option<ParamId>,
    pub q: QIds,
}

/// Posterior parameter ids.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum QIds {
    PerStep {
        w: ParamId,
        b: ParamId,
    },
    BiGru {
        fwd: [ParamId; 3],
        bwd: [ParamId; 3],
        out_w: ParamId,
        out_b: ParamId,
    },
}

/// The parameters of a GDM recorded on one tape.
#[derive(Clone, Copy, Debug)]
pub struct GdmVars {
    /// `F` (D × N).
    pub f: Var,
    /// `R` (K × D).
    pub r_mat: Var,
    /// `r` (1 × K).
    pub r_bias: Var,
    /// `γ` (1 × 1).
    pub gamma: Var,
    /// `logits_z1` (1 × K).
    pub logits_z1: Var,
    /// `S` (K·N × L·D).
    pub s: Var,
    /// `b` (1 × K·N).
    pub b: Var,
    /// `mu_init` (1 × K·N).
    pub mu_init: Var,
    /// `log_var` (1 × N), Gaussian only.
    pub log_var: Option<Var>,
    /// `V` (K·N × I), with inputs.
    pub v: Option<Var>,
    /// `R_u` (K × I), with inputs.
    pub r_u: Option<Var>,
    /// Posterior parameters.
    pub q: QVars,
}

/// Posterior parameters on a tape.
#[derive(Clone, Copy, Debug)]
pub enum QVars {
    /// `q.W` (K × N), `q.b` (1 × K).
    PerStep {
        /// Weights.
        w: Var,
        /// Bias.
        b: Var,
    },
    /// Bidirectional GRU: `[Wx, Wh, b]` per direction, then the output layer.
    BiGru {
        /// Forward direction `[Wx (3H×N), Wh (3H×H), b (1×3H)]`.
        fwd: [Var; 3],
        /// Backward direction.
        bwd: [Var; 3],
        /// Output weights (K × 2H).
        out_w: Var,
        /// Output bias (1 × K).
        out_b: Var,
    },
}

fn add<T: Float>(store: &mut ParamStore<T>, name: &str, r: usize, c: usize, v: &[T]) -> ParamId {
    store
        .add(name, r, c, v)
        .expect("internal: fresh parameter name")
}

/// A `d × d` orthogonal matrix with Haar distribution (Gram–Schmidt of a Gaussian matrix,
/// columns normalised).
fn random_orthogonal<R: Rng + ?Sized>(rng: &mut R, d: usize) -> Vec<f64> {
    loop {
        let mut a: Vec<f64> = init::normal(rng, d * d, 1.0);
        let mut ok = true;
        for j in 0..d {
            for p in 0..j {
                let dot: f64 = (0..d).map(|i| a[i * d + j] * a[i * d + p]).sum();
                for i in 0..d {
                    a[i * d + j] -= dot * a[i * d + p];
                }
            }
            let n: f64 = (0..d).map(|i| a[i * d + j].powi(2)).sum::<f64>().sqrt();
            if n < 1e-8 {
                ok = false;
                break;
            }
            for i in 0..d {
                a[i * d + j] /= n;
            }
        }
        if ok {
            return a;
        }
    }
}

/// Registers and initialises every parameter of `cfg` (see the module table).
pub(crate) fn init_store<T: Float, R: Rng + ?Sized>(
    cfg: &GdmConfig,
    rng: &mut R,
) -> (ParamStore<T>, Ids) {
    let (k, n, d, l, i) = (cfg.states, cfg.obs, cfg.proj, cfg.lags, cfg.inputs);
    let cast = |v: Vec<f64>| -> Vec<T> { v.into_iter().map(T::from_f64).collect() };
    let mut st = ParamStore::new();
    let f = add(&mut st, "F", d, n, &cast(init::normal(rng, d * n, 0.1)));
    let r_mat = add(&mut st, "R", k, d, &cast(init::normal(rng, k * d, 1.0)));
    let r_bias = add(&mut st, "r", 1, k, &vec![T::ZERO; k]);
    let gamma = add(&mut st, "gamma", 1, 1, &[T::from_f64(0.1)]);
    let logits_z1 = add(&mut st, "logits_z1", 1, k, &vec![T::ZERO; k]);
    // S_{k,l} = C A_{k,l}: rows k·N + n, columns l·D + e
    let c = init::normal::<f64, _>(rng, n * d, 1.0);
    let mut s = vec![0.0; k * n * l * d];
    for kk in 0..k {
        for ll in 0..l {
            let a = random_orthogonal(rng, d);
            for nn in 0..n {
                for e in 0..d {
                    let v: f64 = (0..d).map(|j| c[nn * d + j] * a[j * d + e]).sum();
                    s[(kk * n + nn) * (l * d) + ll * d + e] = v;
                }
            }
        }
    }
    let s = add(&mut st, "S", k * n, l * d, &cast(s));
    let b = add(&mut st, "b", 1, k * n, &vec![T::ZERO; k * n]);
    let mu_init = add(
        &mut st,
        "mu_init",
        1,
        k * n,
        &cast(init::normal(rng, k * n, 1.0)),
    );
    let log_var = (cfg.emission == Emission::Gaussian).then(|| {
        let v: Vec<f64> = (0..n).map(|_| -1.0 + rng.random::<f64>()).collect();
        add(&mut st, "log_var", 1, n, &cast(v))
    });
    let (v, r_u) = if i > 0 {
        let v = add(
            &mut st,
            "V",
            k * n,
            i,
            &cast(init::normal(rng, k * n * i, 0.1)),
        );
        let r_u = add(&mut st, "R_u", k, i, &vec![T::ZERO; k * i]);
        (Some(v), Some(r_u))
    } else {
        (None, None)
    };
    let q = match cfg.posterior {
        PosteriorKind::PerStep => {
            let w = add(&mut st, "q.W", k, n, &cast(init::normal(rng, k * n, 0.8)));
            let b = add(&mut st, "q.b", 1, k, &vec![T::ZERO; k]);
            QIds::PerStep { w, b }
        }
        PosteriorKind::BiGru { hidden: h } => {
            let mut dir = |st: &mut ParamStore<T>, name: &str| -> [ParamId; 3] {
                [
                    add(
                        st,
                        &format!("q.{name}.Wx"),
                        3 * h,
                        n,
                        &init::glorot_uniform(rng, 3 * h, n),
                    ),
                    add(
                        st,
                        &format!("q.{name}.Wh"),
                        3 * h,
                        h,
                        &init::glorot_uniform(rng, 3 * h, h),
                    ),
                    add(st, &format!("q.{name}.b"), 1, 3 * h, &vec![T::ZERO; 3 * h]),
                ]
            };
            let fwd = dir(&mut st, "fwd");
            let bwd = dir(&mut st, "bwd");
            let out_w = add(
                &mut st,
                "q.out.W",
                k,
                2 * h,
                &init::glorot_uniform(rng, k, 2 * h),
            );
            let out_b = add(&mut st, "q.out.b", 1, k, &vec![T::ZERO; k]);
            QIds::BiGru {
                fwd,
                bwd,
                out_w,
                out_b,
            }
        }
    };
    let ids = Ids {
        f,
        r_mat,
        r_bias,
        gamma,
        logits_z1,
        s,
        b,
        mu_init,
        log_var,
        v,
        r_u,
        q,
    };
    (st, ids)
}

/// The SPEC shape of a parameter (what cases and checkpoints show), from its stored shape.
pub(crate) fn spec_shape(cfg: &GdmConfig, name: &str, rows: usize, cols: usize) -> Vec<usize> {
    let (k, n) = (cfg.states, cfg.obs);
    match name {
        "gamma" => vec![],
        "S" | "V" => vec![k, n, cols],
        "b" | "mu_init" => vec![k, n],
        _ if rows == 1 => vec![cols],
        _ => vec![rows, cols],
    }
}

impl Ids {
    /// Records every parameter.
    pub(crate) fn record<T: Float>(&self, tape: &mut Tape<T>, st: &ParamStore<T>) -> GdmVars {
        let mut p = |id: ParamId| tape.param(st, id);
        let (f, r_mat, r_bias, gamma) = (p(self.f), p(self.r_mat), p(self.r_bias), p(self.gamma));
        let (logits_z1, s, b, mu_init) = (p(self.logits_z1), p(self.s), p(self.b), p(self.mu_init));
        let log_var = self.log_var.map(&mut p);
        let v = self.v.map(&mut p);
        let r_u = self.r_u.map(&mut p);
        let q = match &self.q {
            QIds::PerStep { w, b } => QVars::PerStep { w: p(*w), b: p(*b) },
            QIds::BiGru {
                fwd,
                bwd,
                out_w,
                out_b,
            } => QVars::BiGru {
                fwd: fwd.map(&mut p),
                bwd: bwd.map(&mut p),
                out_w: p(*out_w),
                out_b: p(*out_b),
            },
        };
        GdmVars {
            f,
            r_mat,
            r_bias,
            gamma,
            logits_z1,
            s,
            b,
            mu_init,
            log_var,
            v,
            r_u,
            q,
        }
    }
}
