//! Evaluation baselines: item-kNN against brute-force cosine, EASE against its optimality condition.

use crate::common;

use cartwise::train::baselines::ItemKnn;
use cartwise::train::ease::Ease;
use cartwise::train::protocol::top_of_scores;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn knn_is_cosine_of_binary_columns((n, baskets) in common::baskets_strategy(3usize..12)) {
        let knn = ItemKnn::fit(&baskets, n);
        for i in 0..n as u32 {
            for &(j, sim) in knn.row(i) {
                let both = baskets.iter().filter(|b| b.contains(&i) && b.contains(&j)).count() as f64;
                let ni = baskets.iter().filter(|b| b.contains(&i)).count() as f64;
                let nj = baskets.iter().filter(|b| b.contains(&j)).count() as f64;
                prop_assert!((sim as f64 - both / (ni * nj).sqrt()).abs() < 1e-6);
            }
            prop_assert!(knn.row(i).windows(2).all(|w| w[0].1 >= w[1].1));
        }
    }

    /// EASE solves min ||X − XB||² + λ||B||² s.t. diag(B) = 0, whose stationarity condition is
    /// (XᵀX + λI)·B − XᵀX = −diag(μ): every off-diagonal entry of the left side is zero.
    #[test]
    fn ease_satisfies_its_optimality_condition((n, baskets) in common::baskets_strategy(3usize..12), lambda in 0.5f64..50.0) {
        let ease = Ease::fit(&baskets, n, lambda);
        let g = |i: u32, j: u32| baskets.iter().filter(|b| b.contains(&i) && b.contains(&j)).count() as f64;
        for i in 0..n as u32 {
            prop_assert_eq!(ease.weight(i, i), 0.0);
            for j in 0..n as u32 {
                if i == j { continue; }
                let mut lhs = -g(i, j);
                for k in 0..n as u32 {
                    let gik = g(i, k) + if i == k { lambda } else { 0.0 };
                    lhs += gik * ease.weight(k, j) as f64;
                }
                prop_assert!(lhs.abs() < 1e-3 * (1.0 + g(i, i)), "({i},{j}): {lhs}");
            }
        }
    }

    /// Personalized EASE scores x·B with x = 1 on the cart and `weight` on the history items
    /// outside it: brute force from the weights gives the same ranking; weight 0, an empty
    /// history or a history inside the cart give EASE's own; cart items are never ranked, and
    /// a history item can be (a rebuy).
    #[test]
    fn personalized_ease_ranks_by_the_cart_plus_the_weighted_history(
        (n, baskets) in common::baskets_strategy(4usize..12),
        lambda in 0.5f64..20.0,
        cart_bits in 1u32..4096,
        history_bits in 0u32..4096,
        weight in 0.01f32..1.0,
    ) {
        let ease = Ease::fit(&baskets, n, lambda);
        let of = |bits: u32| (0..n as u32).filter(|i| bits >> i & 1 == 1).collect::<Vec<_>>();
        let (cart, history) = (of(cart_bits), of(history_bits));
        prop_assume!(!cart.is_empty());
        let mut scores = vec![0f32; n];
        let inputs = cart.iter().map(|&i| (i, 1.0)).chain(
            history.iter().filter(|h| !cart.contains(h)).map(|&h| (h, weight)),
        );
        for (i, x) in inputs {
            for (j, s) in scores.iter_mut().enumerate() {
                *s += x * ease.weight(i, j as u32);
            }
        }
        let ranked = ease.rank_with_history(&cart, &history, weight);
        prop_assert_eq!(&ranked, &top_of_scores(&scores, &cart));
        prop_assert!(ranked.iter().all(|i| !cart.contains(i)));
        for same in [
            ease.rank_with_history(&cart, &history, 0.0),
            ease.rank_with_history(&cart, &[], weight),
            ease.rank_with_history(&cart, &cart, weight),
        ] {
            prop_assert_eq!(&same, &ease.rank(&cart));
        }
    }
}

#[test]
fn rankings_leave_out_the_cart_and_prefer_partners() {
    // Items 0 and 1 always go together; 2 is popular but independent.
    let mut baskets: Vec<Vec<u32>> = Vec::new();
    for k in 0..40 {
        baskets.push(vec![0, 1]);
        baskets.push(if k % 2 == 0 { vec![2, 3] } else { vec![2] });
    }
    let ease = Ease::fit(&baskets, 4, 1.0);
    let knn = ItemKnn::fit(&baskets, 4);
    assert_eq!(ease.rank(&[0])[0], 1);
    assert_eq!(knn.rank(&[0])[0], 1);
    assert!(!ease.rank(&[0]).contains(&0));
    assert_eq!(ease.size_bytes(), 64);
}
