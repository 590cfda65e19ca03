#![allow(clippy::excessive_precision, clippy::unreadable_literal)]
//! Butcher tableaux as data, with their sources, and the dense-output polynomials.
//!
//! An explicit method with `s` stages is
//!
//! ```text
//! k_i = f(t + c_i h, y + h Σ_{j<i} a_ij k_j)        y_new = y + h Σ_i b_i k_i
//! err = h Σ_i e_i k_i      (e = difference of the two weight vectors of an embedded pair)
//! ```
//!
//! FSAL ("first same as last") pairs have `c_s = 1` and last row of `a` equal to `b`, so `k_s`
//! is `f(t + h, y_new)` and becomes `k_1` of the next step.

/// How a method interpolates inside an accepted step (`θ = (t* − t)/h ∈ [0, 1]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Interp {
    /// No dense output: saves must be step points (fixed-step methods stop at them).
    None,
    /// Cubic Hermite through `y0, f0, y1, f1` (third order).
    Hermite,
    /// The method's own continuous extension: `y(θ) = y0 + h Σ_i b_i(θ) k_i` with
    /// `b_i(θ) = Σ_{m=1..4} p[i][m−1] θ^m`.
    Poly(&'static [[f64; 4]]),
}

/// An explicit Runge–Kutta method.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tableau {
    /// Short name (`"dopri5"`).
    pub name: &'static str,
    /// Order of the propagated solution.
    pub order: u32,
    /// Order of the embedded error estimator (`None` for fixed-step methods).
    pub err_order: Option<u32>,
    /// Nodes `c_i`.
    pub c: &'static [f64],
    /// Strictly lower-triangular `a`, row `i` holding `a_i0 .. a_i(i−1)` (row 0 empty).
    pub a: &'static [&'static [f64]],
    /// Weights `b_i` of the propagated solution.
    pub b: &'static [f64],
    /// Error weights `e_i` (empty without an embedded pair).
    pub e: &'static [f64],
    /// Whether the last stage is `f(t + h, y_new)`.
    pub fsal: bool,
    /// Dense output.
    pub interp: Interp,
}

impl Tableau {
    /// Number of stages.
    pub fn stages(&self) -> usize {
        self.c.len()
    }
    /// Whether the method has an embedded error estimate.
    pub fn adaptive(&self) -> bool {
        !self.e.is_empty()
    }
}

/// Forward Euler.
///
/// ```text
/// 0 |
/// --+--
///   | 1
/// ```
pub const EULER: Tableau = Tableau {
    name: "euler",
    order: 1,
    err_order: None,
    c: &[0.0],
    a: &[&[]],
    b: &[1.0],
    e: &[],
    fsal: false,
    interp: Interp::None,
};

/// The explicit midpoint rule (Runge 1895).
///
/// ```text
/// 0   |
/// 1/2 | 1/2
/// ----+---------
///     | 0    1
/// ```
pub const MIDPOINT: Tableau = Tableau {
    name: "midpoint",
    order: 2,
    err_order: None,
    c: &[0.0, 0.5],
    a: &[&[], &[0.5]],
    b: &[0.0, 1.0],
    e: &[],
    fsal: false,
    interp: Interp::None,
};

/// The classic fourth-order Runge–Kutta method (Kutta 1901).
///
/// ```text
/// 0   |
/// 1/2 | 1/2
/// 1/2 | 0    1/2
/// 1   | 0    0    1
/// ----+-------------------
///     | 1/6  1/3  1/3  1/6
/// ```
pub const RK4: Tableau = Tableau {
    name: "rk4",
    order: 4,
    err_order: None,
    c: &[0.0, 0.5, 0.5, 1.0],
    a: &[&[], &[0.5], &[0.0, 0.5], &[0.0, 0.0, 1.0]],
    b: &[1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
    e: &[],
    fsal: false,
    interp: Interp::None,
};

/// Bogacki & Shampine (1989), "A 3(2) pair of Runge–Kutta formulas", Appl. Math. Lett. 2(4);
/// FSAL, third-order solution, second-order estimate; cubic Hermite dense output.
///
/// ```text
/// 0   |
/// 1/2 | 1/2
/// 3/4 | 0     3/4
/// 1   | 2/9   1/3   4/9
/// ----+----------------------
/// b   | 2/9   1/3   4/9   0
/// b̂   | 7/24  1/4   1/3   1/8
/// ```
pub const BOSH3: Tableau = Tableau {
    name: "bosh3",
    order: 3,
    err_order: Some(2),
    c: &[0.0, 0.5, 0.75, 1.0],
    a: &[
        &[],
        &[0.5],
        &[0.0, 0.75],
        &[2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0],
    ],
    b: &[2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0, 0.0],
    e: &[
        2.0 / 9.0 - 7.0 / 24.0,
        1.0 / 3.0 - 0.25,
        4.0 / 9.0 - 1.0 / 3.0,
        -0.125,
    ],
    fsal: true,
    interp: Interp::Hermite,
};

/// Dormand & Prince (1980), "A family of embedded Runge–Kutta formulae", J. Comp. Appl. Math.
/// 6(1); as DOPRI5 in Hairer, Nørsett & Wanner, *Solving ODEs I* (2nd ed.), §II.5. FSAL, fifth-
/// order solution, fourth-order estimate; Shampine's (1986) fourth-order dense output.
///
/// ```text
/// 0    |
/// 1/5  | 1/5
/// 3/10 | 3/40        9/40
/// 4/5  | 44/45       −56/15      32/9
/// 8/9  | 19372/6561  −25360/2187 64448/6561  −212/729
/// 1    | 9017/3168   −355/33     46732/5247  49/176    −5103/18656
/// 1    | 35/384      0           500/1113    125/192   −2187/6784   11/84
/// -----+------------------------------------------------------------------------
/// b    | 35/384      0           500/1113    125/192   −2187/6784   11/84    0
/// b̂    | 5179/57600  0           7571/16695  393/640   −92097/339200 187/2100 1/40
/// ```
pub const DOPRI5: Tableau = Tableau {
    name: "dopri5",
    order: 5,
    err_order: Some(4),
    c: &[0.0, 0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0],
    a: &[
        &[],
        &[0.2],
        &[3.0 / 40.0, 9.0 / 40.0],
        &[44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
        &[
            19372.0 / 6561.0,
            -25360.0 / 2187.0,
            64448.0 / 6561.0,
            -212.0 / 729.0,
        ],
        &[
            9017.0 / 3168.0,
            -355.0 / 33.0,
            46732.0 / 5247.0,
            49.0 / 176.0,
            -5103.0 / 18656.0,
        ],
        &[
            35.0 / 384.0,
            0.0,
            500.0 / 1113.0,
            125.0 / 192.0,
            -2187.0 / 6784.0,
            11.0 / 84.0,
        ],
    ],
    b: &[
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
        0.0,
    ],
    e: &[
        71.0 / 57600.0,
        0.0,
        -71.0 / 16695.0,
        71.0 / 1920.0,
        -17253.0 / 339200.0,
        22.0 / 525.0,
        -1.0 / 40.0,
    ],
    fsal: true,
    interp: Interp::Poly(&[
        [
            1.0,
            -8048581381.0 / 2820520608.0,
            8663915743.0 / 2820520608.0,
            -12715105075.0 / 11282082432.0,
        ],
        [0.0, 0.0, 0.0, 0.0],
        [
            0.0,
            131558114200.0 / 32700410799.0,
            -68118460800.0 / 10900136933.0,
            87487479700.0 / 32700410799.0,
        ],
        [
            0.0,
            -1754552775.0 / 470086768.0,
            14199869525.0 / 1410260304.0,
            -10690763975.0 / 1880347072.0,
        ],
        [
            0.0,
            127303824393.0 / 49829197408.0,
            -318862633887.0 / 49829197408.0,
            701980252875.0 / 199316789632.0,
        ],
        [
            0.0,
            -282668133.0 / 205662961.0,
            2019193451.0 / 616988883.0,
            -1453857185.0 / 822651844.0,
        ],
        [
            0.0,
            40617522.0 / 29380423.0,
            -110615467.0 / 29380423.0,
            69997945.0 / 29380423.0,
        ],
    ]),
};

/// Tsitouras (2011), "Runge–Kutta pairs of order 5(4) satisfying only the first column
/// simplifying assumption", Comput. Math. Appl. 62(2); FSAL, fifth-order solution, fourth-order
/// estimate, with the paper's fourth-order continuous extension. The default method of
/// DifferentialEquations.jl and diffrax. Coefficients rounded from the paper's to f64.
///
/// ```text
/// c = (0, 0.161, 0.327, 0.9, 0.98002554090450968573, 1, 1)
/// b = last row of a (b_7 = 0);  e = b̂ − b with b̂_7 = 1/66
/// ```
pub const TSIT5: Tableau = Tableau {
    name: "tsit5",
    order: 5,
    err_order: Some(4),
    c: &[0.0, 0.161, 0.327, 0.9, 0.980_025_540_904_509_7, 1.0, 1.0],
    a: &[
        &[],
        &[0.161],
        &[-0.008_480_655_492_356_989, 0.335_480_655_492_357],
        &[
            2.897_153_057_105_493_4,
            -6.359_448_489_975_075,
            4.362_295_432_869_581_5,
        ],
        &[
            5.325_864_828_439_257,
            -11.748_883_564_062_828,
            7.495_539_342_889_836,
            -0.092_495_066_361_755_25,
        ],
        &[
            5.861_455_442_946_42,
            -12.920_969_317_847_11,
            8.159_367_898_576_159,
            -0.071_584_973_281_401,
            -0.028_269_050_394_068_383,
        ],
        &[
            0.096_460_766_818_065_23,
            0.01,
            0.479_889_650_414_499_6,
            1.379_008_574_103_742,
            -3.290_069_515_436_081,
            2.324_710_524_099_774,
        ],
    ],
    b: &[
        0.096_460_766_818_065_23,
        0.01,
        0.479_889_650_414_499_6,
        1.379_008_574_103_742,
        -3.290_069_515_436_081,
        2.324_710_524_099_774,
        0.0,
    ],
    e: &[
        -0.001_780_011_052_225_771_4,
        -0.000_816_434_459_656_746_9,
        0.007_880_878_010_261_996,
        -0.144_711_007_173_262_9,
        0.582_357_165_452_555_2,
        -0.458_082_105_929_186_97,
        1.0 / 66.0,
    ],
    fsal: true,
    interp: Interp::Poly(&[
        [
            1.0,
            -2.763_706_197_274_826,
            2.913_255_461_821_912_7,
            -1.053_088_497_729_021_6,
        ],
        [0.0, 0.1317, -0.2234, 0.1017],
        [
            0.0,
            3.930_296_236_894_751_5,
            -5.941_033_872_131_505,
            2.490_627_285_651_253,
        ],
        [
            0.0,
            -12.411_077_166_933_677,
            30.338_188_630_282_32,
            -16.548_102_889_244_902,
        ],
        [
            0.0,
            37.509_313_416_511_04,
            -88.178_904_894_766_4,
            47.379_521_962_819_28,
        ],
        [
            0.0,
            -27.896_526_289_197_288,
            65.091_894_674_793_67,
            -34.870_657_861_496_61,
        ],
        [0.0, 1.5, -4.0, 2.5],
    ]),
};
