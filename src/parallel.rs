//! Running independent pieces of work (batch shards) in parallel when the `rayon` feature is
//! on, and one after the other otherwise. Results come back in the pieces' order, so that a
//! caller summing them in that order gets the same bits on any number of threads.

/// `f` on every element of `items`, in parallel with the `rayon` feature (on rayon's global
/// pool), in order without it; the results in the order of `items`.
pub(crate) fn par_map<S: Send, R: Send>(
    items: &mut [S],
    f: impl Fn(&mut S) -> R + Sync + Send,
) -> Vec<R> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        if items.len() > 1 {
            return items.par_iter_mut().map(f).collect();
        }
    }
    items.iter_mut().map(f).collect()
}

#[cfg(test)]
mod tests {
    use super::par_map;

    #[test]
    fn results_come_back_in_the_items_order() {
        let mut items: Vec<u64> = (0..37).collect();
        let out = par_map(&mut items, |x| {
            *x += 1;
            *x * *x
        });
        assert_eq!(out, (1..38u64).map(|x| x * x).collect::<Vec<_>>());
        assert_eq!(items, (1..38).collect::<Vec<_>>());
    }
}
