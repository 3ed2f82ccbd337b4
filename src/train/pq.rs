//! Learning product-quantization codebooks ([`crate::serve::kernel::pq`]): k-means (Lloyd's
//! algorithm) in each subspace, seeded, with the assignment step spread over rayon's threads.

use crate::serve::kernel::pq::{nearest, Codebook, PqRows, CENTROIDS};
use crate::serve::kernel::TableError;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Lloyd iterations per subspace: FAISS's default for PQ training is 25.
pub const ITERATIONS: usize = 25;
/// Most rows the centroids are learned from (a seeded sample beyond that): FAISS's
/// 256 training points per centroid.
pub const MAX_TRAINING_ROWS: usize = 256 * CENTROIDS;

/// Learns a codebook of `subspaces` subspaces for `vectors` (row-major, `dim` values each)
/// and encodes them: the product-quantized rows.
pub fn quantize(
    vectors: &[f32],
    dim: usize,
    subspaces: usize,
    seed: u64,
) -> Result<PqRows, TableError> {
    let codebook = fit(vectors, dim, subspaces, ITERATIONS, seed)?;
    let codes: Vec<u8> = vectors
        .par_chunks_exact(dim)
        .flat_map_iter(|row| codebook.encode(row))
        .collect();
    Ok(PqRows { codebook, codes })
}

/// k-means with [`CENTROIDS`] centroids in each subspace of `vectors` (of at most
/// [`MAX_TRAINING_ROWS`] of them, drawn with `seed`). Centroids start at distinct rows drawn
/// with `seed` (repeated when there are fewer rows than centroids); a centroid left without
/// rows moves to a row drawn the same way.
pub fn fit(
    vectors: &[f32],
    dim: usize,
    subspaces: usize,
    iterations: usize,
    seed: u64,
) -> Result<Codebook, TableError> {
    // The shape is checked (and an empty codebook refused) before any work.
    Codebook::new(dim, subspaces, vec![0.0; dim * CENTROIDS])?;
    if vectors.is_empty() || !vectors.len().is_multiple_of(dim) {
        return Err(TableError::Shape {
            values: vectors.len(),
            rows: vectors.len() / dim,
            dim,
        });
    }
    let mut sample: Vec<usize> = (0..vectors.len() / dim).collect();
    sample.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    sample.truncate(MAX_TRAINING_ROWS);
    let rows = sample.len();
    let w = dim / subspaces;
    let mut centroids = Vec::with_capacity(dim * CENTROIDS);
    for m in 0..subspaces {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (m as u64).wrapping_mul(0x9e37_79b9));
        let part = |r: usize| &vectors[sample[r] * dim + m * w..][..w];
        let mut order: Vec<usize> = (0..rows).collect();
        order.shuffle(&mut rng);
        let mut c: Vec<f32> = (0..CENTROIDS)
            .flat_map(|k| part(order[k % rows]).to_vec())
            .collect();
        for _ in 0..iterations {
            let nearest: Vec<usize> = (0..rows)
                .into_par_iter()
                .map(|r| nearest(&c, part(r)))
                .collect();
            let mut sums = vec![0f64; CENTROIDS * w];
            let mut counts = vec![0usize; CENTROIDS];
            for (r, &k) in nearest.iter().enumerate() {
                counts[k] += 1;
                sums[k * w..][..w]
                    .iter_mut()
                    .zip(part(r))
                    .for_each(|(s, &x)| *s += f64::from(x));
            }
            for k in 0..CENTROIDS {
                let centroid = &mut c[k * w..][..w];
                match counts[k] {
                    0 => centroid.copy_from_slice(part(*order.choose(&mut rng).expect("rows"))),
                    n => centroid
                        .iter_mut()
                        .zip(&sums[k * w..][..w])
                        .for_each(|(x, s)| *x = (s / n as f64) as f32),
                }
            }
        }
        centroids.extend(c);
    }
    Codebook::new(dim, subspaces, centroids)
}
