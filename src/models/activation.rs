//! Elementwise activations of hidden layers.

use crate::Float;
use crate::error::ConfigError;
use crate::tape::{Tape, Var};

/// A hidden-layer activation (SPEC: relu, tanh, softplus, silu, sigmoid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Activation {
    /// `max(x, 0)` (the gnODE default).
    #[default]
    Relu,
    /// `tanh x`.
    Tanh,
    /// `ln(1 + e^x)`.
    Softplus,
    /// `x σ(x)`.
    Silu,
    /// `σ(x)`.
    Sigmoid,
}

impl Activation {
    /// Records the activation.
    pub fn apply<T: Float>(self, tape: &mut Tape<T>, x: Var) -> Var {
        match self {
            Activation::Relu => tape.relu(x),
            Activation::Tanh => tape.tanh(x),
            Activation::Softplus => tape.softplus(x),
            Activation::Silu => tape.silu(x),
            Activation::Sigmoid => tape.sigmoid(x),
        }
    }

    /// Its name in configs.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Softplus => "softplus",
            Activation::Silu => "silu",
            Activation::Sigmoid => "sigmoid",
        }
    }
}

impl std::str::FromStr for Activation {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "relu" => Ok(Activation::Relu),
            "tanh" => Ok(Activation::Tanh),
            "softplus" => Ok(Activation::Softplus),
            "silu" => Ok(Activation::Silu),
            "sigmoid" => Ok(Activation::Sigmoid),
            _ => Err(ConfigError::new(
                "activation",
                format!(
                    "unknown activation {s:?} (expected relu, tanh, softplus, silu or sigmoid)"
                ),
            )),
        }
    }
}
