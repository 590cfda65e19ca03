//! Level sets on a grid by marching squares, joined into polylines.
//!
//! Nullclines of a planar system `(ẋ, ẏ) = f(x, y)` are the zero level sets of `f₁` and `f₂`.
//!
//! ```text
//! for each cell with corners v00 (i,j), v10 (i+1,j), v11 (i+1,j+1), v01 (i,j+1):
//!     an edge is crossed when its ends lie on different sides of the level (v > level);
//!     the crossing is linearly interpolated along the edge;
//!     2 crossed edges → 1 segment; 4 (a saddle cell) → 2 segments, paired by the cell-centre
//!     average (the isolated corners are those on the other side from the centre).
//! segments sharing an edge crossing are chained into polylines (closed ones repeat their
//! first point at the end).
//! ```
//! Cells with a NaN or infinite corner are skipped, so a contour stops at missing data.

use std::collections::HashMap;

/// A grid edge: horizontal `(i,j)–(i+1,j)` or vertical `(i,j)–(i,j+1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Edge {
    H(usize, usize),
    V(usize, usize),
}

/// The polylines along which the gridded field crosses `level`.
///
/// `values` is row-major with `ys.len()` rows of `xs.len()` columns:
/// `values[j * xs.len() + i] = f(xs[i], ys[j])`. A grid smaller than 2×2, or `values` shorter
/// than `xs.len() · ys.len()`, gives no lines; a non-finite `level` too.
///
/// # Example: the unit circle as the zero set of x² + y² − 1
/// ```
/// use neurodyn::plot::contour_lines;
/// let g: Vec<f64> = (0..41).map(|k| -2.0 + 0.1 * k as f64).collect();
/// let f: Vec<f64> = g.iter().flat_map(|&y| g.iter().map(move |&x| x * x + y * y - 1.0)).collect();
/// let lines = contour_lines(&g, &g, &f, 0.0);
/// assert_eq!(lines.len(), 1);
/// let closed = lines[0].first() == lines[0].last();
/// assert!(closed);
/// for &(x, y) in &lines[0] {
///     assert!(((x * x + y * y).sqrt() - 1.0).abs() < 0.02);
/// }
/// ```
pub fn contour_lines(xs: &[f64], ys: &[f64], values: &[f64], level: f64) -> Vec<Vec<(f64, f64)>> {
    let (nx, ny) = (xs.len(), ys.len());
    let enough = nx.checked_mul(ny).is_some_and(|n| values.len() >= n);
    if nx < 2 || ny < 2 || !enough || !level.is_finite() {
        return Vec::new();
    }
    let at = |i: usize, j: usize| values[j * nx + i];
    let point = |e: Edge| -> (f64, f64) {
        let ((i0, j0), (i1, j1)) = match e {
            Edge::H(i, j) => ((i, j), (i + 1, j)),
            Edge::V(i, j) => ((i, j), (i, j + 1)),
        };
        let (a, b) = (at(i0, j0), at(i1, j1));
        let t = ((level - a) / (b - a)).clamp(0.0, 1.0);
        let t = if t.is_nan() { 0.5 } else { t };
        (
            xs[i0] + t * (xs[i1] - xs[i0]),
            ys[j0] + t * (ys[j1] - ys[j0]),
        )
    };
    let mut segments: Vec<(Edge, Edge)> = Vec::new();
    for j in 0..ny - 1 {
        for i in 0..nx - 1 {
            cell_segments(
                i,
                j,
                [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)],
                level,
                &mut segments,
            );
        }
    }
    chain(&segments)
        .into_iter()
        .map(|edges| edges.into_iter().map(point).collect())
        .collect()
}

/// The segments of cell `(i, j)` with corners `v = [v00, v10, v11, v01]`.
fn cell_segments(i: usize, j: usize, v: [f64; 4], level: f64, out: &mut Vec<(Edge, Edge)>) {
    if v.iter().any(|x| !x.is_finite()) {
        return;
    }
    let above = v.map(|x| x > level);
    // Edges in order around the cell, and the two edges each corner touches.
    let (bottom, right, top, left) = (
        Edge::H(i, j),
        Edge::V(i + 1, j),
        Edge::H(i, j + 1),
        Edge::V(i, j),
    );
    let corner_edges = [(bottom, left), (bottom, right), (right, top), (top, left)];
    let crossed: Vec<Edge> = [(bottom, 0, 1), (right, 1, 2), (top, 2, 3), (left, 3, 0)]
        .into_iter()
        .filter(|&(_, a, b)| above[a] != above[b])
        .map(|(e, _, _)| e)
        .collect();
    match crossed.len() {
        2 => out.push((crossed[0], crossed[1])),
        4 => {
            let centre_above = v.iter().sum::<f64>() / 4.0 > level;
            for (k, &(a, b)) in corner_edges.iter().enumerate() {
                if above[k] != centre_above {
                    out.push((a, b));
                }
            }
        }
        _ => {}
    }
}

/// Joins segments that share an edge into polylines of edges.
fn chain(segments: &[(Edge, Edge)]) -> Vec<Vec<Edge>> {
    let mut at_edge: HashMap<Edge, Vec<usize>> = HashMap::new();
    for (k, &(a, b)) in segments.iter().enumerate() {
        at_edge.entry(a).or_default().push(k);
        at_edge.entry(b).or_default().push(k);
    }
    let mut used = vec![false; segments.len()];
    // Follows unused segments from `edge`, appending the far ends to `line`.
    let walk = |mut edge: Edge, used: &mut Vec<bool>, line: &mut Vec<Edge>| {
        while let Some(&k) = at_edge
            .get(&edge)
            .and_then(|ks| ks.iter().find(|&&k| !used[k]))
        {
            used[k] = true;
            let (a, b) = segments[k];
            edge = if a == edge { b } else { a };
            line.push(edge);
        }
    };
    let mut lines = Vec::new();
    for k in 0..segments.len() {
        if used[k] {
            continue;
        }
        used[k] = true;
        let (a, b) = segments[k];
        let mut forward = vec![a, b];
        walk(b, &mut used, &mut forward);
        let mut backward = Vec::new();
        walk(a, &mut used, &mut backward);
        backward.reverse();
        backward.extend(forward);
        lines.push(backward);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saddle_cells_give_two_segments() {
        let mut out = Vec::new();
        cell_segments(0, 0, [1.0, -1.0, 1.0, -1.0], 0.0, &mut out);
        assert_eq!(out.len(), 2);
        cell_segments(0, 0, [1.0, 1.0, 1.0, 1.0], 0.0, &mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn bad_grids_give_nothing() {
        assert!(contour_lines(&[0.0], &[0.0, 1.0], &[0.0, 1.0], 0.5).is_empty());
        assert!(contour_lines(&[0.0, 1.0], &[0.0, 1.0], &[0.0, 1.0], 0.5).is_empty());
        let v = [f64::NAN, 1.0, -1.0, 1.0];
        assert!(contour_lines(&[0.0, 1.0], &[0.0, 1.0], &v, 0.0).is_empty());
    }

    #[test]
    fn a_straight_level_set_is_one_open_line() {
        // f = x on a 3×3 grid: the level 0.5 is the vertical line x = 0.5.
        let g = [0.0, 1.0, 2.0];
        let f: Vec<f64> = (0..9).map(|k| g[k % 3]).collect();
        let lines = contour_lines(&g, &g, &f, 0.5);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].len(), 3);
        assert!(lines[0].iter().all(|&(x, _)| (x - 0.5).abs() < 1e-12));
    }
}
