//! Candidate add-ons: gathered from the association table, EASE rows and the basket model's
//! best rows, weighed by the blend, ranked, with places held for the call's new items.

use super::cold_start::TitleReader;
use super::new_items::Fresh;
use super::scoring::{ModelQuery, ScoringTable};
use super::types::{Candidate, Evidence, Query, SuggestError, Terms};
use crate::serve::blend::{rebuy, Blend, Features};
use crate::serve::export::Export;
use crate::serve::kernel::{cpu, Hit};
use crate::serve::rules::Exclusions;
use std::collections::HashMap;

/// What a call reads of the loaded engine: the export, its exclusion mask, the model's scoring
/// table and what it knows of new items.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub export: &'a Export,
    /// Per catalog item: excluded from suggestions by the export's rules.
    pub excluded: &'a [bool],
    /// The export's rules' exclusion lists as sets.
    pub exclusions: &'a Exclusions,
    pub scoring: Option<&'a ScoringTable>,
    pub titles: &'a TitleReader,
}

impl Sources<'_> {
    /// Whether an item (a new one of the call's too) may not be suggested under the export's
    /// exclusions or a call's rules.
    pub fn blocked(&self, item: u32, terms: &Terms) -> bool {
        let product = terms.fresh.shelf(&self.export.catalog).get(item);
        self.excluded.get(item as usize).copied().unwrap_or(false)
            || terms.exclusions.excludes(product)
    }
}

/// The blend's evidence for every candidate add-on of a cart, unordered, given the model
/// query's best rows (from any backend).
///
/// Candidates are the association neighbours of cart items, the items their EASE rows weigh
/// positively, the shopper's history items when the blend weighs rebuys, and the model's best
/// `blend.model_candidates` items; with none of these but rebuys (an empty or unknown cart),
/// every ordered item too. EASE and the model are consulted only when the blend weighs them.
pub fn gather(
    src: &Sources,
    q: &Query,
    scored: Option<(&ModelQuery, &[Hit])>,
) -> Result<Vec<(Features, Evidence)>, SuggestError> {
    let (cart, history, month, blend) = (q.cart, q.history, q.month, q.blend);
    let export = src.export;
    let assoc = &export.assoc;
    let blocked = |j: u32| src.excluded[j as usize] || cart.contains(&j);
    let popularity =
        |j: u32| ((assoc.item_counts[j as usize] as f32 + 1.0) / (assoc.orders as f32 + 1.0)).ln();
    let mut slot: HashMap<u32, usize> = HashMap::new();
    let mut out: Vec<(Features, Evidence)> = Vec::new();
    // The candidate's entry in `out`, created with `evidence` when new.
    let mut add = |j: u32, evidence: Evidence, out: &mut Vec<(Features, Evidence)>| {
        *slot.entry(j).or_insert_with(|| {
            out.push((
                Features {
                    item: j,
                    assoc: 0.0,
                    ease: 0.0,
                    model: 0.0,
                    popularity: popularity(j),
                    history: 0.0,
                    repeat: 0.0,
                },
                evidence,
            ));
            out.len() - 1
        })
    };
    for &i in cart {
        for nb in assoc.row(i) {
            if nb.score <= 0.0 || blocked(nb.item) {
                continue;
            }
            let k = add(nb.item, Evidence::Popular, &mut out);
            let (f, evidence) = &mut out[k];
            f.assoc += nb.score;
            let stronger = match *evidence {
                Evidence::Assoc { contribution, .. } => nb.score > contribution,
                _ => true,
            };
            if stronger {
                *evidence = Evidence::Assoc {
                    anchor: i,
                    count: nb.count,
                    contribution: nb.score,
                };
            }
        }
    }
    let ease = export.ease.as_ref().filter(|_| blend.ease != 0.0);
    if let Some(ease) = ease {
        for &i in cart {
            for (j, w) in ease.row(i) {
                if w <= 0.0 || blocked(j) {
                    continue;
                }
                let k = add(
                    j,
                    Evidence::Learned {
                        anchor: i,
                        weight: w,
                    },
                    &mut out,
                );
                let evidence = &mut out[k].1;
                if matches!(*evidence, Evidence::Learned { weight, .. } if w > weight) {
                    *evidence = Evidence::Learned {
                        anchor: i,
                        weight: w,
                    };
                }
            }
        }
    }
    // What the shopper bought before (not in the cart) is a candidate of its own when the blend
    // weighs rebuys, valued by how recently it was bought and how often the item's buyers come
    // back for it; groceries are bought again.
    if blend.repeat != 0.0 {
        for (position, &h) in history.iter().filter(|h| !cart.contains(h)).enumerate() {
            if !blocked(h) && (h as usize) < assoc.items() {
                let k = add(h, Evidence::Rebuy, &mut out);
                out[k].0.repeat = rebuy(position) * export.rebuy.factor(h);
            }
        }
    }
    if let (Some((query, hits)), Some(table)) = (scored, src.scoring) {
        let best = hits
            .iter()
            .map(|h| table.item(h.item))
            .filter(|&j| !blocked(j));
        for j in best.take(blend.model_candidates as usize) {
            add(j, Evidence::Model, &mut out);
        }
        // Every candidate's model score, as the kernel scores its row; excluded items have
        // no row and are never candidates.
        let rows: Vec<u32> = out
            .iter()
            .map(|(f, _)| table.rows[f.item as usize])
            .collect();
        let scores = cpu::scores_of(&table.table, &query.vector, &rows)?;
        for ((f, _), s) in out.iter_mut().zip(scores) {
            f.model = s;
        }
    }
    for (f, _) in &mut out {
        f.assoc *= export.seasonal.factor(f.item, month);
    }
    // Every cart item's EASE row adds to the candidates it keeps, substitutes included.
    if let Some(ease) = ease {
        for &i in cart {
            for (j, w) in ease.row(i) {
                if let Some(&k) = slot.get(&j) {
                    out[k].0.ease += w;
                }
            }
        }
    }
    // Nothing in the cart points anywhere: every ordered item, by seasonal popularity (the
    // shopper's rebuys among them keep their place in the history).
    if out.iter().all(|(_, e)| matches!(e, Evidence::Rebuy)) {
        let seasonal = |j: u32| popularity(j) + export.seasonal.factor(j, month).ln();
        for (f, _) in &mut out {
            f.popularity = seasonal(f.item);
        }
        let rest: Vec<(Features, Evidence)> = (0..assoc.items() as u32)
            .filter(|&j| !blocked(j) && assoc.item_counts[j as usize] > 0 && !slot.contains_key(&j))
            .map(|j| {
                let f = Features {
                    item: j,
                    assoc: 0.0,
                    ease: 0.0,
                    model: 0.0,
                    popularity: seasonal(j),
                    history: 0.0,
                    repeat: 0.0,
                };
                (f, Evidence::Popular)
            })
            .collect();
        out.extend(rest);
    }
    // The shopper's affinity: how strongly past items (not in the cart) go with each
    // candidate. It ranks the candidates (the bestsellers of an empty cart too); it adds
    // none.
    if blend.history != 0.0 {
        let at: HashMap<u32, usize> = out
            .iter()
            .enumerate()
            .map(|(k, (f, _))| (f.item, k))
            .collect();
        for &h in history.iter().filter(|h| !cart.contains(h)) {
            for nb in assoc.row(h) {
                if let Some(&k) = at.get(&nb.item) {
                    out[k].0.history += nb.score.max(0.0);
                }
            }
        }
    }
    Ok(out)
}

/// Ranks the candidates of [`gather`] and the call's new items by the query's blend, best
/// first, ties by item index. Without association or model evidence, seasonal popularity ranks.
pub fn rank(
    src: &Sources,
    q: &Query,
    scored: Option<(&ModelQuery, &[Hit])>,
    fresh: &Fresh,
) -> Result<Vec<Candidate>, SuggestError> {
    let blend = q.blend;
    let fallback = Blend {
        popularity: 1.0,
        history: blend.history,
        repeat: blend.repeat,
        ..Blend::default()
    };
    let mut features = gather(src, q, scored)?;
    // New items are ranked the way the known candidates are: by popularity alone when
    // nothing in the cart points anywhere (the bestsellers), else by the blend.
    let by_popularity = features
        .iter()
        .all(|(_, e)| matches!(e, Evidence::Popular | Evidence::Rebuy));
    features.extend(src.titles.features(
        src.export,
        src.scoring,
        q.cart,
        fresh,
        scored.map(|(query, _)| query),
    )?);
    let mut out: Vec<Candidate> = features
        .into_iter()
        .map(|(f, evidence)| Candidate {
            item: f.item,
            score: match evidence {
                Evidence::Popular => fallback.score(&f),
                Evidence::New { .. } | Evidence::Rebuy if by_popularity => fallback.score(&f),
                _ => blend.score(&f),
            },
            evidence,
        })
        .collect();
    // Bundles add their items' scores, so keep scores non-negative (logits and log
    // popularity are not): shift the list so its weakest candidate scores 0.
    let floor = out.iter().map(|c| c.score).fold(0.0f32, f32::min);
    for c in &mut out {
        c.score -= floor;
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
    Ok(out)
}

/// Makes sure at least `places` of the first `k` candidates are `wanted` (when that many are):
/// the best wanted ones from further down replace the weakest unwanted ones of the top `k`,
/// at its end, each taking the displaced one's score (or less, to keep the order) so bundles
/// built from the list keep them too.
pub fn hold_places(
    candidates: &mut Vec<Candidate>,
    k: usize,
    places: usize,
    wanted: impl Fn(&Candidate) -> bool,
) {
    let k = k.min(candidates.len());
    let have = candidates[..k].iter().filter(|c| wanted(c)).count();
    let movers: Vec<usize> = (k..candidates.len())
        .filter(|&i| wanted(&candidates[i]))
        .take(places.saturating_sub(have))
        .collect();
    if movers.is_empty() {
        return;
    }
    let mut out_of_top: Vec<usize> = (0..k).filter(|&i| !wanted(&candidates[i])).collect();
    let displaced = out_of_top.split_off(out_of_top.len().saturating_sub(movers.len()));
    let mut top: Vec<Candidate> = (0..k)
        .filter(|i| !displaced.contains(i))
        .map(|i| candidates[i])
        .collect();
    for (&from, &to) in movers.iter().zip(&displaced) {
        let mut moved = candidates[from];
        let floor = top.last().map_or(f32::INFINITY, |c| c.score);
        moved.score = candidates[to].score.min(floor);
        top.push(moved);
    }
    let rest = displaced
        .iter()
        .chain(
            (k..candidates.len())
                .filter(|i| !movers.contains(i))
                .collect::<Vec<_>>()
                .iter(),
        )
        .map(|&i| candidates[i])
        .collect::<Vec<_>>();
    top.extend(rest);
    *candidates = top;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(wanted: &[u32]) -> Vec<Candidate> {
        (0..10)
            .map(|i| Candidate {
                item: i,
                score: 10.0 - i as f32,
                evidence: if wanted.contains(&i) {
                    Evidence::New { read: true }
                } else {
                    Evidence::Popular
                },
            })
            .collect()
    }

    fn held(wanted: &[u32], k: usize, places: usize) -> Vec<(u32, f32)> {
        let mut c = list(wanted);
        hold_places(&mut c, k, places, |c| {
            matches!(c.evidence, Evidence::New { .. })
        });
        c.iter().map(|c| (c.item, c.score)).collect()
    }

    #[test]
    fn held_places_go_to_the_best_wanted_candidates_from_below() {
        // Two places in the top 4: items 6 and 8 take places 3 and 4 from items 2 and 3.
        let out = held(&[6, 8, 9], 4, 2);
        let ids: Vec<u32> = out.iter().map(|c| c.0).collect();
        assert_eq!(ids, [0, 1, 6, 8, 2, 3, 4, 5, 7, 9]);
        assert_eq!(out[2].1, 8.0);
        assert_eq!(out[3].1, 7.0);
        // A wanted item in the top stays; the one moving up never outscores it.
        let out = held(&[3, 7], 4, 2);
        let ids: Vec<u32> = out.iter().map(|c| c.0).collect();
        assert_eq!(&ids[..5], &[0, 1, 3, 7, 2]);
        assert_eq!(out[3].1, 7.0);
        // Already there: nothing moves.
        assert_eq!(held(&[1, 2], 4, 2), held(&[1, 2], 4, 0));
        // One there, one more needed.
        let ids: Vec<u32> = held(&[1, 7], 4, 2).iter().map(|c| c.0).collect();
        assert_eq!(&ids[..5], &[0, 1, 2, 7, 3]);
        // No places held: nothing moves.
        assert_eq!(
            held(&[6], 4, 0),
            list(&[6])
                .iter()
                .map(|c| (c.item, c.score))
                .collect::<Vec<_>>()
        );
    }
}
