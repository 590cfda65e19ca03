//! The models, written once against the tape: gnODE family ([`gnode`]), a GRU baseline
//! ([`gru`]) low-rank RNNs ([`lowrank`])
//! and continuous normalizing flows ([`cnf`]).

pub mod activation;
pub mod cnf;
pub mod gdm;
pub mod gnode;
pub mod gru;
pub mod init;
pub mod lowrank;
pub mod sequence;

pub use activation::Activation;
pub use sequence::{GnodeSeq, SeqBatch, SequenceModel, Targets, TimeMode};
