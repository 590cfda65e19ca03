//! The models, written once against the tape: gnODE family ([`gnode`]), a GRU baseline
//! ([`gru`]) and low-rank RNNs ([`lowrank`]).

pub mod activation;
pub mod gnode;
pub mod gru;
pub mod init;
pub mod lowrank;
pub mod sequence;

pub use activation::Activation;
pub use sequence::{GnodeSeq, SeqBatch, SequenceModel, Targets, TimeMode};
