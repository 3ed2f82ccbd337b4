//! The discount for one bundle: the allowed discounts under the merchant's rules, and the one
//! with the highest expected margin.

use super::acceptance::probability;
use crate::serve::catalog::Product;
use crate::serve::money::Currency;
use crate::serve::rules::{DiscountForm, Exclusions, MerchantRules, BP};

/// The lowest price that keeps `min_margin_bp` over `cost`: ceil(cost × (1 + margin)).
pub fn margin_floor(cost: i64, min_margin_bp: u32) -> i64 {
    let num = cost as i128 * (BP + min_margin_bp) as i128;
    let floor = (num + BP as i128 - 1).div_euclid(BP as i128);
    floor.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// One bundle to price; money in minor units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Offer {
    /// Sum of the items' list prices.
    pub base_price: i64,
    /// Sum of the items' costs; `None` when one is unknown (no floor to keep: no discount).
    pub cost: Option<i64>,
    /// The part of `base_price` the merchant lets be discounted (items not excluded).
    pub discountable: i64,
    /// Chance the shopper takes the bundle at list price.
    pub base_acceptance: f64,
    /// Price sensitivity β: a discount of fraction d multiplies the odds of taking it by
    /// exp(β·d).
    pub sensitivity: f64,
}

impl Offer {
    /// The offer of a bundle of `products` under the rules' `exclusions`: list prices and costs
    /// summed (unknown prices count 0), and the part of the price the rules let be discounted.
    pub fn new(
        products: &[&Product],
        exclusions: &Exclusions,
        base_acceptance: f64,
        sensitivity: f64,
    ) -> Self {
        let price = |p: &&Product| p.price.unwrap_or(0);
        Self {
            base_price: products.iter().map(price).sum(),
            cost: products.iter().map(|p| p.cost).sum(),
            discountable: products
                .iter()
                .filter(|p| exclusions.discounts(p))
                .map(price)
                .sum(),
            base_acceptance,
            sensitivity,
        }
    }

    /// Chance the shopper takes the bundle at a discount of `discount` minor units.
    pub fn acceptance(&self, discount: i64) -> f64 {
        let d = if self.base_price > 0 {
            discount as f64 / self.base_price as f64
        } else {
            0.0
        };
        probability(self.base_acceptance, self.sensitivity, d)
    }

    /// Expected margin at a discount: P(accept) × (base price − discount − cost).
    pub fn expected_margin(&self, discount: i64) -> Option<f64> {
        self.cost
            .map(|c| self.acceptance(discount) * (self.base_price - discount - c) as f64)
    }
}

/// How a discount is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy {
    /// The allowed discount with the highest expected margin.
    Optimize,
    /// The largest allowed discount up to this many basis points of the base price (a fixed
    /// percentage; 0 is no discount). For comparisons.
    Fixed(u32),
}

/// A priced bundle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quote {
    pub base_price: i64,
    pub discount: i64,
    pub bundle_price: i64,
    /// Predicted chance the shopper takes the bundle at this price.
    pub acceptance: f64,
    /// Predicted chance at list price.
    pub base_acceptance: f64,
}

/// The discounts a bundle may take: 0, and every amount up to `max` of the rules' form whose
/// bundle price has the rules' ending.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest discount the maximum-discount rule, the discount exclusions and the margin
    /// floor allow.
    pub max: i64,
    grid: Grid,
}

/// The positive discounts of the allowed form and ending, before the `max` cap.
#[derive(Debug, Clone, PartialEq)]
enum Grid {
    /// `first, first + step, …`
    Step { first: i64, step: i64 },
    /// An explicit ascending list (whole percents).
    List(Vec<i64>),
}

impl Limits {
    /// The limits for an offer under the rules, in minor units of `currency` (its unit sets
    /// what "whole" and "99" mean and the step of an amount discount).
    pub fn new(offer: &Offer, rules: &MerchantRules, currency: &Currency) -> Self {
        let base = offer.base_price.max(0);
        let cap = |amount: i64| {
            (amount.max(0) as i128 * rules.max_discount_bp.min(BP) as i128 / BP as i128) as i64
        };
        let headroom = match offer.cost {
            Some(cost) => base.saturating_sub(margin_floor(cost, rules.min_margin_bp)),
            None => 0,
        };
        let max = cap(base).min(cap(offer.discountable)).min(headroom).max(0);
        let ending = |d: i64| rules.price_ending.fits(base - d, currency);
        let unit = currency.unit();
        let grid = match rules.discount_form {
            DiscountForm::Percent => Grid::List(
                (1..=100i64)
                    .map(|p| (base as i128 * p as i128 + 50) as i64 / 100)
                    .map(|d| d.max(0))
                    .filter(|&d| d > 0 && ending(d))
                    .collect(),
            ),
            DiscountForm::Any | DiscountForm::Amount => {
                let step = if rules.discount_form == DiscountForm::Amount {
                    unit
                } else {
                    1
                };
                // Endings repeat every unit: one fitting amount within a unit's worth of steps
                // gives them all.
                let period = unit / gcd(unit, step);
                match (1..=period).map(|d| d * step).find(|&d| ending(d)) {
                    Some(first) => Grid::Step {
                        first,
                        step: if ending(first + step) {
                            step
                        } else {
                            unit * step / gcd(unit, step)
                        },
                    },
                    None => Grid::List(Vec::new()),
                }
            }
        };
        Self { max, grid }
    }

    /// These limits with the discount capped at `cap` (a per-call tightening never gives more
    /// than the export's rules would).
    pub fn at_most(mut self, cap: i64) -> Self {
        self.max = self.max.min(cap.max(0));
        self
    }

    /// Whether a discount is allowed.
    pub fn allows(&self, discount: i64) -> bool {
        discount == 0 || (discount <= self.max && self.above(discount) == Some(discount))
    }

    /// The largest allowed discount at or below `x` (0 when none is).
    pub fn below(&self, x: i64) -> i64 {
        let x = x.min(self.max);
        match &self.grid {
            Grid::Step { first, step } if x >= *first => first + (x - first) / step * step,
            Grid::Step { .. } => 0,
            Grid::List(list) => list.iter().rev().copied().find(|&d| d <= x).unwrap_or(0),
        }
    }

    /// The smallest allowed positive discount at or above `x`, if one is within `max`.
    pub fn above(&self, x: i64) -> Option<i64> {
        let x = x.max(1);
        let d = match &self.grid {
            Grid::Step { first, step } if x <= *first => Some(*first),
            Grid::Step { first, step } => Some(first + (x - first + step - 1) / step * step),
            Grid::List(list) => list.iter().copied().find(|&d| d >= x),
        };
        d.filter(|&d| d <= self.max)
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Prices an offer under the rules by a policy.
///
/// `Optimize`: the expected margin `P(accept | d) × (base − d − cost)` has a concave
/// logarithm in `d` (log σ is concave, and so is the log of a falling line), so it rises to one
/// peak and falls; the best allowed discount is one of the two allowed neighbours of that peak,
/// or none. Ties go to the smaller discount. An offer with unknown cost gets no discount.
pub fn quote(offer: &Offer, rules: &MerchantRules, currency: &Currency, policy: Policy) -> Quote {
    quote_within(offer, &Limits::new(offer, rules, currency), policy)
}

/// Prices an offer within given limits by a policy (see [`quote`]).
pub fn quote_within(offer: &Offer, limits: &Limits, policy: Policy) -> Quote {
    let discount = match policy {
        Policy::Fixed(bp) => {
            let target = offer.base_price.max(0) as i128 * bp as i128 / BP as i128;
            limits.below(target as i64)
        }
        Policy::Optimize => match offer.cost {
            Some(cost) if limits.max > 0 && offer.base_price > cost => {
                let peak = peak(offer, cost, limits.max);
                let candidates = [
                    Some(0),
                    Some(limits.below(peak.floor() as i64)),
                    limits.above(peak.ceil() as i64),
                ];
                candidates
                    .into_iter()
                    .flatten()
                    .map(|d| (d, offer.expected_margin(d).unwrap_or(f64::NEG_INFINITY)))
                    .fold((0, f64::NEG_INFINITY), |best, (d, m)| {
                        if m > best.1 || (m == best.1 && d < best.0) {
                            (d, m)
                        } else {
                            best
                        }
                    })
                    .0
            }
            _ => 0,
        },
    };
    Quote {
        base_price: offer.base_price,
        discount,
        bundle_price: offer.base_price - discount,
        acceptance: offer.acceptance(discount),
        base_acceptance: offer.acceptance(0),
    }
}

/// The discount in [0, max] (continuous) at which expected margin peaks: where the slope of its
/// logarithm, β/base · (1 − P(accept)) − 1 / (base − cost − d), crosses zero.
fn peak(offer: &Offer, cost: i64, max: i64) -> f64 {
    let base = offer.base_price as f64;
    let slope = |d: f64| {
        let accept = probability(offer.base_acceptance, offer.sensitivity, d / base);
        offer.sensitivity / base * (1.0 - accept) - 1.0 / ((offer.base_price - cost) as f64 - d)
    };
    let (mut lo, mut hi) = (0.0, max as f64);
    if slope(lo) <= 0.0 {
        return 0.0;
    }
    if slope(hi) >= 0.0 {
        return hi;
    }
    for _ in 0..64 {
        let mid = 0.5 * (lo + hi);
        if slope(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::rules::PriceEnding;

    fn usd() -> Currency {
        Currency::default()
    }

    fn offer(base: i64, cost: i64) -> Offer {
        Offer {
            base_price: base,
            cost: Some(cost),
            discountable: base,
            base_acceptance: 0.1,
            sensitivity: 10.0,
        }
    }

    #[test]
    fn floor_rounds_up_to_whole_minor_units() {
        assert_eq!(margin_floor(1000, 2000), 1200);
        assert_eq!(margin_floor(999, 2000), 1199); // 1198.8 -> 1199
        assert_eq!(margin_floor(0, 2000), 0);
    }

    #[test]
    fn margin_floor_caps_the_discount() {
        // 15% of 10.00 would be 1.50, but cost 8.00 at 20% margin needs 9.60.
        let rules = MerchantRules::default();
        let limits = Limits::new(&offer(1000, 800), &rules, &usd());
        assert_eq!(limits.max, 40);
        assert_eq!(
            limits.max,
            Limits::new(
                &offer(1000, 100),
                &MerchantRules {
                    max_discount_bp: 400,
                    ..rules.clone()
                },
                &usd()
            )
            .max
        );
        // Already below the floor: no discount, never a surcharge.
        assert_eq!(Limits::new(&offer(1000, 950), &rules, &usd()).max, 0);
        // Unknown cost: no discount.
        let unknown = Offer {
            cost: None,
            ..offer(1000, 100)
        };
        assert_eq!(
            quote(&unknown, &rules, &usd(), Policy::Optimize).discount,
            0
        );
        assert_eq!(
            quote(&unknown, &rules, &usd(), Policy::Fixed(1000)).discount,
            0
        );
    }

    #[test]
    fn sensitive_shoppers_get_the_maximum_and_indifferent_ones_none() {
        let rules = MerchantRules::default();
        let sensitive = offer(10_000, 4_000);
        assert_eq!(
            quote(&sensitive, &rules, &usd(), Policy::Optimize).discount,
            1_500
        );
        let indifferent = Offer {
            sensitivity: 0.5,
            ..sensitive
        };
        assert_eq!(
            quote(&indifferent, &rules, &usd(), Policy::Optimize).discount,
            0
        );
        // In between, the peak is interior: check it against every allowed discount.
        let middle = Offer {
            sensitivity: 3.0,
            base_acceptance: 0.3,
            ..sensitive
        };
        let q = quote(&middle, &rules, &usd(), Policy::Optimize);
        assert!(q.discount > 0 && q.discount < 1_500, "{q:?}");
        let best = (0..=1_500)
            .max_by(|&a, &b| {
                middle
                    .expected_margin(a)
                    .unwrap()
                    .total_cmp(&middle.expected_margin(b).unwrap())
            })
            .unwrap();
        assert_eq!(q.discount, best);
    }

    #[test]
    fn forms_and_endings_shape_the_grid() {
        let rules = |form, ending| MerchantRules {
            discount_form: form,
            price_ending: ending,
            ..MerchantRules::default()
        };
        let o = offer(2_549, 1_000); // max 15% = 382
        let any99 = Limits::new(
            &o,
            &rules(DiscountForm::Any, PriceEnding::NinetyNine),
            &usd(),
        );
        assert_eq!((any99.below(382), any99.above(1)), (350, Some(50)));
        let whole = Limits::new(&o, &rules(DiscountForm::Any, PriceEnding::Whole), &usd());
        assert_eq!(whole.below(382), 349);
        let amount = Limits::new(&o, &rules(DiscountForm::Amount, PriceEnding::Any), &usd());
        assert_eq!((amount.below(382), amount.above(101)), (300, Some(200)));
        // 25.49 - whole units never ends in .99 or .00: only no discount.
        let none = Limits::new(&o, &rules(DiscountForm::Amount, PriceEnding::Whole), &usd());
        assert_eq!((none.below(382), none.above(0)), (0, None));
        let percent = Limits::new(&o, &rules(DiscountForm::Percent, PriceEnding::Any), &usd());
        assert_eq!(percent.below(382), 382); // 15% of 25.49 = 3.8235 -> 3.82
        assert_eq!(percent.below(381), 357); // 14%: 3.5686 -> 3.57
        assert!(percent.allows(255) && !percent.allows(256));
    }

    #[test]
    fn the_currency_unit_sets_endings_and_amounts() {
        let rules = |form, ending| MerchantRules {
            discount_form: form,
            price_ending: ending,
            ..MerchantRules::default()
        };
        let (jpy, kwd) = (
            Currency::new("JPY", 0).unwrap(),
            Currency::new("KWD", 3).unwrap(),
        );
        // ¥1,980 at 15% at most: any whole yen is "whole" and an "amount".
        let o = offer(1_980, 800);
        let whole = Limits::new(&o, &rules(DiscountForm::Amount, PriceEnding::Whole), &jpy);
        assert_eq!((whole.below(297), whole.above(1)), (297, Some(1)));
        // 25.490 KWD: "99" is x.990, amounts are whole dinars (1,000 fils).
        let o = offer(25_490, 10_000);
        let max = Limits::new(&o, &rules(DiscountForm::Any, PriceEnding::Any), &kwd).max;
        assert_eq!(max, 3_823);
        let any99 = Limits::new(&o, &rules(DiscountForm::Any, PriceEnding::NinetyNine), &kwd);
        assert_eq!((any99.below(max), any99.above(1)), (3_500, Some(500)));
        let amount = Limits::new(&o, &rules(DiscountForm::Amount, PriceEnding::Any), &kwd);
        assert_eq!(
            (amount.below(max), amount.above(1_001)),
            (3_000, Some(2_000))
        );
        let whole = Limits::new(&o, &rules(DiscountForm::Any, PriceEnding::Whole), &kwd);
        assert_eq!(whole.below(max), 3_490);
    }
}
