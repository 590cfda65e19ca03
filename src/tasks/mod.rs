//! Built-in tasks and data generators: the continuous-memory tasks of the gnODE paper
//! ([`memory`]) and Gaussian-process targets for the expressivity measure ([`gp`]).

pub mod gp;
pub mod lorenz;
pub mod memory;
pub mod nascar;

pub use memory::MemoryTask;
