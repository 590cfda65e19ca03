//! Baselines the GDM is compared with (SPEC §6.3): an autoregressive HMM fitted by exact EM
//! ([`arhmm`]), on exact forward–backward and Viterbi ([`hmm`]). The hard-switching (argmax)
//! GDM is a configuration of the GDM itself (`models::gdm::Switching::Hard`).

pub mod arhmm;
pub mod hmm;
mod linalg;
