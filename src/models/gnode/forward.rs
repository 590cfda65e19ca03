//! Recording a gnODE on the tape: parameters, input drives, the vector field, the discrete step
//! and the readout.

use super::{Gnode, InitialState};
use crate::Float;
use crate::tape::{Tape, Var};

/// A gnODE's parameters recorded on one tape.
#[derive(Clone, Debug)]
pub struct GnodeVars {
    flow_w: Vec<Var>,
    flow_b: Vec<Var>,
    flow_u: Option<Var>,
    gate_w: Option<Var>,
    gate_u: Option<Var>,
    gate_b: Option<Var>,
    out_w: Var,
    out_b: Var,
    h0: Option<Var>,
    h0_affine: Option<(Var, Var)>,
    cell: Option<CellVars>,
}

/// The mGRU cell's stacked parameters (gated, `flow = []`): `[W_0; W_z]` (`2N × N`),
/// `[U_0; U_z]` (`2N × I`) and `[b_0 b_z]` (`1 × 2N`), one node each, so that a stage takes
/// one product `h [W_0; W_z]ᵀ` and one fused [`Tape::gated_tanh`].
#[derive(Clone, Copy, Debug)]
struct CellVars {
    w: Var,
    u: Option<Var>,
    b: Var,
}

/// The input-dependent parts of F's first layer and of the gate for one input value:
/// `x U_0ᵀ + b_0` and `x U_zᵀ + b_z` (computed once per input bin, reused by every stage). For
/// the mGRU cell (gated, `flow = []`) the two side by side, `x [U_0; U_z]ᵀ + [b_0 b_z]`
/// (`batch × 2N`), as the stacked product of a stage takes them.
#[derive(Clone, Copy, Debug)]
pub struct Drive {
    /// `x U_0ᵀ + b_0` (`batch × w_1`), unless stacked.
    flow: Option<Var>,
    /// `x U_zᵀ + b_z` (`batch × N`), when gated and not stacked.
    gate: Option<Var>,
    /// `[x U_0ᵀ + b_0 | x U_zᵀ + b_z]` for the mGRU cell.
    cell: Option<Var>,
}

impl Drive {
    /// The flow's drive `x U_0ᵀ + b_0` (a copy out of the stacked drive for the mGRU cell).
    fn flow<T: Float>(&self, tape: &mut Tape<T>) -> Var {
        match (self.flow, self.cell) {
            (Some(f), _) => f,
            (None, Some(c)) => {
                let n = tape.shape(c).1 / 2;
                tape.slice_cols(c, 0, n)
            }
            (None, None) => unreachable!("internal: a drive has a flow part"),
        }
    }

    /// The gate's drive `x U_zᵀ + b_z`, if gated.
    fn gate<T: Float>(&self, tape: &mut Tape<T>) -> Option<Var> {
        match (self.gate, self.cell) {
            (Some(g), _) => Some(g),
            (None, Some(c)) => {
                let n = tape.shape(c).1 / 2;
                Some(tape.slice_cols(c, n, n))
            }
            (None, None) => None,
        }
    }
}

impl<T: Float> Gnode<T> {
    /// Records the parameters on `tape`.
    pub fn record(&self, tape: &mut Tape<T>) -> GnodeVars {
        self.record_from(tape, self.store())
    }

    /// Records the parameters taking their values from `s`, a store with this model's layout
    /// (finite-difference checks perturb a copy).
    ///
    /// # Panics
    /// If `s` has a different layout.
    pub fn record_from(&self, tape: &mut Tape<T>, s: &crate::tape::ParamStore<T>) -> GnodeVars {
        assert_eq!(
            s.infos(),
            self.store().infos(),
            "record_from: the store's layout differs from the model's"
        );
        let ids = &self.ids;
        let n = self.cfg.hidden;
        let cell = match ids.gate {
            Some((gw, gu, gb)) if self.cfg.flow.is_empty() => Some(CellVars {
                w: tape.param_span(s, &[ids.flow_w[0], gw], 2 * n, n),
                u: ids
                    .flow_u
                    .zip(gu)
                    .map(|(fu, gu)| tape.param_span(s, &[fu, gu], 2 * n, self.cfg.inputs)),
                b: tape.param_span(s, &[ids.flow_b[0], gb], 1, 2 * n),
            }),
            _ => None,
        };
        GnodeVars {
            cell,
            flow_w: ids.flow_w.iter().map(|&id| tape.param(s, id)).collect(),
            flow_b: ids.flow_b.iter().map(|&id| tape.param(s, id)).collect(),
            flow_u: ids.flow_u.map(|id| tape.param(s, id)),
            gate_w: ids.gate.map(|(w, _, _)| tape.param(s, w)),
            gate_u: ids.gate.and_then(|(_, u, _)| u.map(|u| tape.param(s, u))),
            gate_b: ids.gate.map(|(_, _, b)| tape.param(s, b)),
            out_w: tape.param(s, ids.out_w),
            out_b: tape.param(s, ids.out_b),
            h0: ids.h0.map(|id| tape.param(s, id)),
            h0_affine: ids
                .h0_affine
                .map(|(a, c)| (tape.param(s, a), tape.param(s, c))),
        }
    }

    /// The input drives for a batch of inputs `x` (`batch × I`); with no inputs (I = 0) pass a
    /// `batch × 0` node.
    pub fn drive(&self, tape: &mut Tape<T>, v: &GnodeVars, x: Var) -> Drive {
        let b = tape.shape(x).0;
        let affine = |tape: &mut Tape<T>, u: Option<Var>, bias: Var| match u {
            Some(u) => tape.linear(x, u, Some(bias)),
            None => tape.broadcast_rows(bias, b),
        };
        match v.cell {
            Some(c) => Drive {
                flow: None,
                gate: None,
                cell: Some(affine(tape, c.u, c.b)),
            },
            None => Drive {
                flow: Some(affine(tape, v.flow_u, v.flow_b[0])),
                gate: v.gate_b.map(|gb| affine(tape, v.gate_u, gb)),
                cell: None,
            },
        }
    }

    /// `F(h, x)` given the drive of `x`.
    pub fn flow(&self, tape: &mut Tape<T>, v: &GnodeVars, h: Var, d: &Drive) -> Var {
        let drive = d.flow(tape);
        let pre = tape.linear(h, v.flow_w[0], Some(drive));
        let cfg = self.config();
        if cfg.flow.is_empty() {
            return tape.tanh(pre);
        }
        let mut a = cfg.activation.apply(tape, pre);
        let last = v.flow_w.len() - 1;
        for l in 1..=last {
            let z = tape.linear(a, v.flow_w[l], Some(v.flow_b[l]));
            a = if l < last {
                cfg.activation.apply(tape, z)
            } else {
                z
            };
        }
        a
    }

    /// The gate's pre-activation `h W_zᵀ + x U_zᵀ + b_z`, if the model has one.
    pub fn gate_pre(&self, tape: &mut Tape<T>, v: &GnodeVars, h: Var, d: &Drive) -> Option<Var> {
        let w = v.gate_w?;
        let dz = d.gate(tape)?;
        Some(tape.linear(h, w, Some(dz)))
    }

    /// The gate `G = σ(h W_zᵀ + x U_zᵀ + b_z)`, if the model has one.
    pub fn gate(&self, tape: &mut Tape<T>, v: &GnodeVars, h: Var, d: &Drive) -> Option<Var> {
        let pre = self.gate_pre(tape, v, h, d)?;
        Some(tape.sigmoid(pre))
    }

    /// `a·h + b·G ⊙ (F − h)` (nODE: `a·h + b·(F − h)`), one fused node; the mGRU cell with
    /// one product for both pre-activations.
    fn update(&self, tape: &mut Tape<T>, v: &GnodeVars, h: Var, d: &Drive, a: f64, b: f64) -> Var {
        if let (Some(c), Some(dc)) = (v.cell, d.cell) {
            return tape.gated_tanh_cell(h, c.w, dc, T::from_f64(a), T::from_f64(b));
        }
        let f = self.flow(tape, v, h, d);
        match self.gate_pre(tape, v, h, d) {
            Some(z) => tape.gated(z, f, h, T::from_f64(a), T::from_f64(b)),
            None => tape.lin_comb(&[(h, T::from_f64(a - b)), (f, T::from_f64(b))]),
        }
    }

    /// The vector field `dh/dt = G ⊙ (F − h) / τ` (nODE: `(F − h)/τ`).
    pub fn velocity(&self, tape: &mut Tape<T>, v: &GnodeVars, h: Var, d: &Drive) -> Var {
        self.update(tape, v, h, d, 0.0, 1.0 / self.config().tau)
    }

    /// [`Gnode::velocity`] at the state `h = Σ_i c_i x_i` (a Runge–Kutta stage state, as for
    /// [`Tape::lin_comb`]), the same bits: the mGRU cell takes the combination into its
    /// product and does not store it; the other models record it first.
    ///
    /// # Example
    /// ```
    /// use neurodyn::models::Activation;
    /// use neurodyn::models::gnode::{Gnode, GnodeConfig};
    /// use neurodyn::tape::Tape;
    /// let cfg = GnodeConfig {
    ///     hidden: 4,
    ///     flow: vec![], // the mGRU
    ///     activation: Activation::Tanh,
    ///     ..Default::default()
    /// };
    /// let model = Gnode::<f64>::new(cfg, &mut neurodyn::rng::seeded(1)).unwrap();
    /// let mut t = Tape::new();
    /// let v = model.record(&mut t);
    /// let x = t.constant(2, 1, &[0.5, -1.0]);
    /// let d = model.drive(&mut t, &v, x);
    /// let y = t.constant(2, 4, &[0.1, 0.2, 0.3, 0.4, -0.1, -0.2, -0.3, -0.4]);
    /// let k = t.constant(2, 4, &[0.5; 8]);
    /// let fused = model.velocity_comb(&mut t, &v, &[(y, 1.0), (k, 0.25)], &d);
    /// let h = t.lin_comb(&[(y, 1.0), (k, 0.25)]);
    /// let plain = model.velocity(&mut t, &v, h, &d);
    /// assert_eq!(t.value(fused), t.value(plain));
    /// ```
    pub fn velocity_comb(
        &self,
        tape: &mut Tape<T>,
        v: &GnodeVars,
        terms: &[(Var, T)],
        d: &Drive,
    ) -> Var {
        let b = 1.0 / self.config().tau;
        if let (Some(c), Some(dc)) = (v.cell, d.cell) {
            return tape.gated_tanh_cell_comb(terms, c.w, dc, T::ZERO, T::from_f64(b));
        }
        let h = tape.lin_comb(terms);
        self.update(tape, v, h, d, 0.0, b)
    }

    /// One discrete-time step `h' = h + α G ⊙ (F − h)` (= `(1 − αz) ⊙ h + αz ⊙ F`; nODE:
    /// `h + α (F − h)`), the Euler step of the continuous model with `α = Δt/τ`.
    pub fn discrete_step(
        &self,
        tape: &mut Tape<T>,
        v: &GnodeVars,
        h: Var,
        d: &Drive,
        alpha: f64,
    ) -> Var {
        self.update(tape, v, h, d, 1.0, alpha)
    }

    /// The initial state of a batch: `h0` broadcast, or `A x_0 + c` from the first inputs `x0`.
    ///
    /// # Panics
    /// With `InitialState::FirstInput` and no `x0`.
    pub fn initial_state(
        &self,
        tape: &mut Tape<T>,
        v: &GnodeVars,
        x0: Option<Var>,
        batch: usize,
    ) -> Var {
        match self.config().initial_state {
            InitialState::Learned => {
                tape.broadcast_rows(v.h0.expect("internal: learned h0 recorded"), batch)
            }
            InitialState::Fixed => {
                let h0 = self.fixed_h0().expect("internal: fixed h0");
                let r = tape.constant(1, h0.len(), h0);
                tape.broadcast_rows(r, batch)
            }
            InitialState::FirstInput => {
                let (a, c) = v.h0_affine.expect("internal: affine h0 recorded");
                let x0 = x0.expect("initial_state: an affine initial state needs the first input");
                tape.linear(x0, a, Some(c))
            }
        }
    }

    /// The readout `y = h W_oᵀ + b_o` (rows of `h` may be any stack of states).
    pub fn readout(&self, tape: &mut Tape<T>, v: &GnodeVars, h: Var) -> Var {
        tape.linear(h, v.out_w, Some(v.out_b))
    }
}
