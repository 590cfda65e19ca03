//! Running independent pieces of work (batch shards) in parallel when the `rayon` feature is
//! on, and one after the other otherwise. Results come back in the pieces' order, so that a
//! caller summing them in that order gets the same bits on any number of threads.

/// `f(i, item)` on every element of `items` with its index, in parallel with the `rayon`
/// feature (on rayon's global pool), in order without it; the results in the order of `items`
/// (a `Vec<()>` of results allocates nothing).
pub(crate) fn par_map<S: Send, R: Send>(
    items: &mut [S],
    f: impl Fn(usize, &mut S) -> R + Sync + Send,
) -> Vec<R> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        if items.len() > 1 {
            return items
                .par_iter_mut()
                .enumerate()
                .map(|(i, x)| f(i, x))
                .collect();
        }
    }
    items.iter_mut().enumerate().map(|(i, x)| f(i, x)).collect()
}

#[cfg(test)]
mod tests {
    use super::par_map;

    #[test]
    fn results_come_back_in_the_items_order() {
        let mut items: Vec<u64> = (0..37).collect();
        let out = par_map(&mut items, |i, x| {
            assert_eq!(*x, i as u64);
            *x += 1;
            *x * *x
        });
        assert_eq!(out, (1..38u64).map(|x| x * x).collect::<Vec<_>>());
        assert_eq!(items, (1..38).collect::<Vec<_>>());
    }
}
