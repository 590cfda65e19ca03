//! The models, written once against the tape: gnODE family ([`gnode`]) and a GRU baseline
//! ([`gru`]).

pub mod activation;
pub mod gdm;
pub mod gnode;
pub mod gru;
pub mod init;
pub mod sequence;

pub use activation::Activation;
pub use sequence::{GnodeSeq, SeqBatch, SequenceModel, Targets, TimeMode};
