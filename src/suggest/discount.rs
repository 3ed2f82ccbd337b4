//! Bundle pricing: a discount that respects the merchant's maximum and margin floor.

use crate::rules::BP;

/// A priced bundle, all in minor units: `bundle_price = base_price - discount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pricing {
    pub base_price: i64,
    pub discount: i64,
    pub bundle_price: i64,
}

/// The lowest price that keeps `min_margin_bp` over `cost`: ceil(cost × (1 + margin)).
pub fn margin_floor(cost: i64, min_margin_bp: u32) -> i64 {
    let num = cost as i128 * (BP + min_margin_bp) as i128;
    let floor = (num + BP as i128 - 1).div_euclid(BP as i128);
    floor.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Prices a bundle of `addons` items (of at most `max_addons`) with base price and total cost.
///
/// v1 policy: the discount grows with bundle size up to the merchant's maximum
/// (`max_discount × addons / max_addons`), then is cut so the bundle never drops below the
/// margin floor. Without a known cost there is no floor to protect, so there is no discount.
pub fn price_bundle(
    base_price: i64,
    cost: Option<i64>,
    addons: u8,
    max_addons: u8,
    max_discount_bp: u32,
    min_margin_bp: u32,
) -> Pricing {
    let headroom = match cost {
        Some(cost) => base_price.saturating_sub(margin_floor(cost, min_margin_bp)),
        None => 0,
    };
    let target = base_price.max(0) as i128 * max_discount_bp.min(BP) as i128 * addons as i128
        / (BP as i128 * max_addons.max(addons).max(1) as i128);
    let discount = (target as i64).min(headroom).max(0);
    Pricing {
        base_price,
        discount,
        bundle_price: base_price - discount,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_rounds_up_to_whole_minor_units() {
        assert_eq!(margin_floor(1000, 2000), 1200);
        assert_eq!(margin_floor(999, 2000), 1199); // 1198.8 -> 1199
        assert_eq!(margin_floor(0, 2000), 0);
    }

    #[test]
    fn margin_floor_caps_the_discount() {
        // 15% of 10.00 would be 1.50, but cost 8.00 at 20% margin needs 9.60.
        let p = price_bundle(1000, Some(800), 2, 2, 1500, 2000);
        assert_eq!(
            p,
            Pricing {
                base_price: 1000,
                discount: 40,
                bundle_price: 960
            }
        );
        // One add-on of two gets half the maximum.
        let p = price_bundle(1000, Some(100), 1, 2, 1500, 2000);
        assert_eq!(p.discount, 75);
        // Unknown cost: no discount.
        assert_eq!(price_bundle(1000, None, 2, 2, 1500, 2000).discount, 0);
        // Already below the floor: no discount, never a surcharge.
        assert_eq!(price_bundle(1000, Some(950), 2, 2, 1500, 2000).discount, 0);
    }
}
