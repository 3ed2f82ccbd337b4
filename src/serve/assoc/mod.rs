//! Association tables: item and pair counts over orders, and the top neighbours of every item as
//! a CSR table with a precomputed ranking score.
//!
//! The table and its lookups live here and use nothing else of the crate; counting happens on the
//! training side (`train::assoc`). Scores are computed once at build time and stored, so native
//! and wasm rank with identical floats. Frequent 3-itemsets ([`Itemset`]) are stored beside it.

/// Pseudo-count that shrinks lift toward 1: `(c + A) / (e + A)` with `e` the expected count.
pub const SHRINK_PSEUDO_COUNT: f64 = 5.0;

/// One neighbour `j` in item `i`'s row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    /// Item index of the neighbour.
    pub item: u32,
    /// Orders containing both items (c_ij).
    pub count: u32,
    /// Ranking score of `j` given `i`: confidence × ln(shrunk lift), 0 when not above chance.
    pub score: f32,
}

/// Item counts and per-item neighbour rows in compressed sparse row form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssocTable {
    /// Orders counted (N).
    pub orders: u32,
    /// Orders containing each item (n_i).
    pub item_counts: Vec<u32>,
    /// Row `i` is `neighbors[offsets[i]..offsets[i + 1]]`; length items + 1.
    pub offsets: Vec<u32>,
    /// Rows sorted by score (descending, ties by item index), then count-only neighbours.
    pub neighbors: Vec<Neighbor>,
}

/// The pair statistics of one directed pair `i → j`, derived from counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairStats {
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
    pub shrunk_lift: f64,
    pub npmi: f64,
}

impl PairStats {
    /// Derives support, confidence, lift, shrunk lift and NPMI from n, n_i, n_j and c_ij.
    pub fn from_counts(orders: u32, n_i: u32, n_j: u32, c_ij: u32) -> Self {
        let n = orders.max(1) as f64;
        let (ni, nj, c) = (n_i.max(1) as f64, n_j.max(1) as f64, c_ij as f64);
        let expected = ni * nj / n;
        let support = c / n;
        let p_ij = support;
        let npmi = if c_ij == 0 {
            -1.0
        } else if p_ij >= 1.0 {
            1.0
        } else {
            (p_ij / ((ni / n) * (nj / n))).ln() / -p_ij.ln()
        };
        Self {
            support,
            confidence: c / ni,
            lift: c / expected,
            shrunk_lift: (c + SHRINK_PSEUDO_COUNT) / (expected + SHRINK_PSEUDO_COUNT),
            npmi,
        }
    }

    /// The ranking score stored in the table: confidence weighted by log shrunk lift.
    pub fn score(&self) -> f32 {
        if self.shrunk_lift > 1.0 {
            (self.confidence * self.shrunk_lift.ln()) as f32
        } else {
            0.0
        }
    }
}

impl AssocTable {
    /// Number of items the table covers.
    pub fn items(&self) -> usize {
        self.item_counts.len()
    }

    /// All item indices, most ordered first (ties by item index).
    pub fn by_popularity(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.items() as u32).collect();
        order.sort_by(|&a, &b| {
            self.item_counts[b as usize]
                .cmp(&self.item_counts[a as usize])
                .then(a.cmp(&b))
        });
        order
    }

    /// Item `i`'s neighbour row.
    pub fn row(&self, item: u32) -> &[Neighbor] {
        let i = item as usize;
        &self.neighbors[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Statistics for `i → j` given the stored pair count.
    pub fn stats(&self, i: u32, nb: &Neighbor) -> PairStats {
        PairStats::from_counts(
            self.orders,
            self.item_counts[i as usize],
            self.item_counts[nb.item as usize],
            nb.count,
        )
    }

    /// The stored neighbour entry for `i → j`, if the row keeps it.
    pub fn find(&self, i: u32, j: u32) -> Option<&Neighbor> {
        self.row(i).iter().find(|nb| nb.item == j)
    }

    /// Mutual association of two items: the stronger of the two directed scores, 0 if neither
    /// is kept or an index is past the table (a new item, which has no orders).
    pub fn mutual(&self, a: u32, b: u32) -> f32 {
        if a as usize >= self.items() || b as usize >= self.items() {
            return 0.0;
        }
        let ab = self.find(a, b).map_or(0.0, |nb| nb.score);
        let ba = self.find(b, a).map_or(0.0, |nb| nb.score);
        ab.max(ba)
    }

    /// Checks the CSR invariants so a reader never indexes out of bounds.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.items();
        if self.offsets.len() != n + 1 {
            return Err(format!("{} offsets for {} items", self.offsets.len(), n));
        }
        if self.offsets[0] != 0
            || *self.offsets.last().unwrap_or(&0) as usize != self.neighbors.len()
        {
            return Err("offsets do not span the neighbour array".into());
        }
        if self.offsets.windows(2).any(|w| w[0] > w[1]) {
            return Err("offsets decrease".into());
        }
        if let Some(nb) = self.neighbors.iter().find(|nb| nb.item as usize >= n) {
            return Err(format!(
                "neighbour item {} out of range ({n} items)",
                nb.item
            ));
        }
        if self.neighbors.iter().any(|nb| !nb.score.is_finite()) {
            return Err("non-finite neighbour score".into());
        }
        Ok(())
    }
}

/// Three items (ascending item indices) bought together in `count` orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Itemset {
    pub items: [u32; 3],
    pub count: u32,
}
