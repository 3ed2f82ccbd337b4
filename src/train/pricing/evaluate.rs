//! Comparing pricing policies by expected margin per cart, judged by a known acceptance curve
//! (the synthetic shop's planted one) rather than by the curve the optimiser itself uses.

use crate::serve::catalog::Catalog;
use crate::serve::pricing::{quote, Acceptance, Offer, Policy};
use crate::serve::suggest::{Cart, CartEntry, Engine, SuggestError, SuggestOptions};
use crate::train::protocol::TestCart;
use serde::Serialize;

/// One policy's figures over the test carts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyFigures {
    pub policy: String,
    /// Mean expected margin of the cart's top bundle, in minor units.
    pub margin_per_cart: f64,
    /// Mean chance the top bundle is taken.
    pub acceptance: f64,
    /// Mean discount as a share of the bundle's base price.
    pub discount_share: f64,
    /// Share of top bundles with a discount.
    pub discounted: f64,
}

/// The comparison: carts with a priced top bundle and each policy's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingReport {
    pub carts: usize,
    pub policies: Vec<PolicyFigures>,
}

/// Which offer a policy prices: the export's (its curve, its banded costs), the same with
/// exact costs, or the truth (planted curve, exact costs).
#[derive(Clone, Copy, PartialEq)]
enum Basis {
    Export,
    ExactCosts,
    Truth,
}

/// The policies compared, by name: the optimiser on the export's curve and costs, a fixed 10%
/// and none, the optimiser on exact costs (what the export's margin bands cost; only when the
/// exact costs are given) and on the true curve (the most any policy could earn).
fn policies(exact: bool) -> Vec<(&'static str, Policy, Basis)> {
    let mut out = vec![
        (
            "optimiser (export's curve)",
            Policy::Optimize,
            Basis::Export,
        ),
        ("fixed 10%", Policy::Fixed(1_000), Basis::Export),
        ("no discount", Policy::Fixed(0), Basis::Export),
    ];
    if exact {
        out.push((
            "optimiser (exact costs)",
            Policy::Optimize,
            Basis::ExactCosts,
        ));
    }
    out.push(("optimiser (true curve)", Policy::Optimize, Basis::Truth));
    out
}

/// Prices each cart's top bundle under every policy within the export's rules, and scores
/// each price by `truth`: expected margin = P_true(accept | discount) × (price − cost), where
/// P_true keeps the bundle's chance at list price and takes `truth`'s sensitivity, and cost is
/// the exact one from `exact` (the catalog the export was trained on) when given, else the
/// cost the export states.
pub fn compare(
    engine: &Engine,
    carts: &[TestCart],
    truth: &Acceptance,
    exact: Option<&Catalog>,
    clock_month: u8,
) -> Result<PricingReport, SuggestError> {
    let catalog = &engine.export().catalog;
    let rules = &engine.export().rules;
    let policies = policies(exact.is_some());
    let mut sums = vec![[0.0f64; 4]; policies.len()];
    let mut priced = 0usize;
    for test in carts {
        let cart = Cart {
            items: test
                .cart
                .iter()
                .map(|&i| CartEntry::Id(catalog.get(i).id.clone()))
                .collect(),
            history: Vec::new(),
        };
        let options = SuggestOptions {
            k: Some(1),
            month: test.month,
            ..Default::default()
        };
        let out = engine.suggest(&cart, &options, clock_month)?;
        let Some(bundle) = out.bundles.first() else {
            continue;
        };
        let offer = bundle.offer;
        if offer.cost.is_none() || offer.base_price <= 0 {
            continue;
        }
        let exact_offer = Offer {
            cost: match exact {
                Some(exact) => bundle
                    .items
                    .iter()
                    .map(|it| exact.lookup(&it.id).and_then(|i| exact.get(i).cost))
                    .sum(),
                None => offer.cost,
            },
            ..offer
        };
        if exact_offer.cost.is_none() {
            continue;
        }
        let true_offer = Offer {
            sensitivity: bundle
                .items
                .iter()
                .map(|it| {
                    let category = &catalog.get(catalog.lookup(&it.id).expect("known")).category;
                    it.price as f64 * truth.sensitivity(category)
                })
                .sum::<f64>()
                / offer.base_price as f64,
            ..exact_offer
        };
        priced += 1;
        for (sum, &(_, policy, basis)) in sums.iter_mut().zip(&policies) {
            let priced_offer = match basis {
                Basis::Export => &offer,
                Basis::ExactCosts => &exact_offer,
                Basis::Truth => &true_offer,
            };
            let q = quote(priced_offer, rules, catalog.currency(), policy);
            let accept = true_offer.acceptance(q.discount);
            sum[0] += true_offer.expected_margin(q.discount).unwrap_or(0.0);
            sum[1] += accept;
            sum[2] += q.discount as f64 / offer.base_price as f64;
            sum[3] += (q.discount > 0) as u8 as f64;
        }
    }
    let n = priced.max(1) as f64;
    Ok(PricingReport {
        carts: priced,
        policies: sums
            .iter()
            .zip(&policies)
            .map(|(s, (name, _, _))| PolicyFigures {
                policy: name.to_string(),
                margin_per_cart: s[0] / n,
                acceptance: s[1] / n,
                discount_share: s[2] / n,
                discounted: s[3] / n,
            })
            .collect(),
    })
}
