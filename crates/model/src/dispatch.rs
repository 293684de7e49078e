use ndarray::Array2;

/// Marks a dropped assignment in [`Dispatch::pos`].
pub const DROPPED: usize = usize::MAX;

/// The counting-sort plan of a batch: where each (row, slot) assignment sits in the
/// contiguous expert-sorted buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatch {
    /// Buffer position of assignment (row, slot), `[b, k]`, or [`DROPPED`].
    pub pos: Array2<usize>,
    /// Source row of each buffer position, `[N]` (N kept assignments).
    pub rows: Vec<usize>,
    /// Expert j owns buffer positions `offsets[j]..offsets[j + 1]`, `[T + 1]`.
    pub offsets: Vec<usize>,
    /// Assignments dropped by the capacity limit.
    pub dropped: usize,
}

impl Dispatch {
    /// Plans the dispatch of `idx [b, k]` to `experts` experts. With `capacity = Some(c)`,
    /// each expert keeps at most c assignments, taken slot by slot (slot 0 of every row first,
    /// then slot 1, …), each slot in row order.
    pub fn plan(idx: &Array2<usize>, experts: usize, capacity: Option<usize>) -> Self {
        let (b, k) = idx.dim();
        let cap = capacity.unwrap_or(usize::MAX);
        let mut keep = Array2::from_elem((b, k), true);
        let mut counts = vec![0usize; experts];
        let mut dropped = 0;
        for s in 0..k {
            for r in 0..b {
                let j = idx[[r, s]];
                if counts[j] < cap {
                    counts[j] += 1;
                } else {
                    keep[[r, s]] = false;
                    dropped += 1;
                }
            }
        }
        let mut offsets = vec![0usize; experts + 1];
        for j in 0..experts {
            offsets[j + 1] = offsets[j] + counts[j];
        }
        let mut next = offsets[..experts].to_vec();
        let mut pos = Array2::from_elem((b, k), DROPPED);
        let mut rows = vec![0usize; offsets[experts]];
        for r in 0..b {
            for s in 0..k {
                if keep[[r, s]] {
                    let j = idx[[r, s]];
                    pos[[r, s]] = next[j];
                    rows[next[j]] = r;
                    next[j] += 1;
                }
            }
        }
        Self {
            pos,
            rows,
            offsets,
            dropped,
        }
    }

    /// Kept assignments per expert, `[T]`.
    pub fn counts(&self) -> Vec<usize> {
        self.offsets.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// Capacity `ceil(cf · b · k / T)` clamped to `[1, b]`.
    pub fn capacity(cf: f64, b: usize, k: usize, experts: usize) -> usize {
        let c = (cf * (b * k) as f64 / experts as f64).ceil();
        (c.max(1.0) as usize).min(b.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn plan_groups_by_expert_in_row_order() {
        let idx = array![[2, 0], [0, 1], [2, 1]];
        let p = Dispatch::plan(&idx, 4, None);
        assert_eq!(p.offsets, vec![0, 2, 4, 6, 6]);
        assert_eq!(p.rows, vec![0, 1, 1, 2, 0, 2]);
        assert_eq!(p.pos, array![[4, 0], [1, 2], [5, 3]]);
        assert_eq!(p.counts(), vec![2, 2, 2, 0]);
        assert_eq!(p.dropped, 0);
    }

    #[test]
    fn capacity_keeps_first_slots_first() {
        let idx = array![[0, 1], [1, 0], [0, 1]];
        let p = Dispatch::plan(&idx, 2, Some(2));
        // slot 0: rows 0 and 2 take expert 0, row 1 takes expert 1; slot 1: expert 1 has one
        // place left (row 0), expert 0 is full (row 1 dropped), row 2 dropped
        assert_eq!(p.counts(), vec![2, 2]);
        assert_eq!(p.dropped, 2);
        assert_eq!(p.pos[[1, 1]], DROPPED);
        assert_eq!(p.pos[[2, 1]], DROPPED);
        assert_eq!(Dispatch::capacity(1.0, 3, 2, 2), 3);
        assert_eq!(Dispatch::capacity(0.5, 3, 2, 2), 2);
    }
}
