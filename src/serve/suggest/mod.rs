//! Suggestions for a cart: ranked add-ons, bundles of one or two, prices and reasons.
//!
//! One code path for the native CLI and the wasm `Engine`; nothing here reads a clock or the
//! network, so the same export, cart and options give the same answer in both builds.
//!
//! Inside, lowest first (each file uses only those before it): [`new_items`] (the call's new
//! products as an input type), [`types`] (what crosses the boundary and passes between steps),
//! [`budget`] (the most one call may pass), [`scoring`] (the model's item table and query), [`cold_start`] (reading unseen titles),
//! [`candidates`] (gathering and ranking add-ons), [`reasons`], [`bundles`], [`verify`] (a
//! bundle's price re-derived at checkout); this file holds the
//! [`Engine`] that runs a call through them. The submodules take what they read as arguments
//! ([`candidates::Sources`]), never the engine itself.

pub mod budget;
pub mod bundles;
pub mod candidates;
pub mod cold_start;
pub mod new_items;
pub mod reasons;
pub mod scoring;
pub mod types;
pub mod verify;

pub use candidates::Sources;
pub use scoring::{ModelQuery, ScoringTable};
pub use types::{
    Bundle, BundleItem, BundleOption, Candidate, Cart, CartEntry, Evidence, ModelScores, Query,
    SuggestError, SuggestOptions, Suggestions, Terms, DEFAULT_K, DEFAULT_NEW_ITEM_SLOTS, MAX_K,
};

use crate::serve::blend::Features;
use crate::serve::export::Export;
use crate::serve::kernel::Hit;
use crate::serve::model::{BasketModel, ModelInput};
use crate::serve::rank::top_items;
use crate::serve::rules::Exclusions;
use cold_start::TitleReader;
use new_items::Fresh;

/// A suggest call up to its catalog-scoring step, which a caller may run on any backend (the
/// CPU kernel, or WebGPU asynchronously) before [`Engine::finish`].
#[derive(Debug, Clone)]
pub struct Pending {
    in_cart: Vec<u32>,
    history: Vec<u32>,
    unknown: Vec<String>,
    unknown_history: Vec<String>,
    cold_start: Vec<String>,
    k: u32,
    new_item_slots: u32,
    month: u8,
    terms: Terms,
    query: Option<ModelQuery>,
}

impl Pending {
    /// The scoring the call needs, if the export's blend consults the basket model.
    pub fn query(&self) -> Option<&ModelQuery> {
        self.query.as_ref()
    }
}

/// Loaded export, its basket model (when it has one) and the per-item exclusion mask.
pub struct Engine {
    export: Export,
    model: Option<BasketModel>,
    scoring: Option<ScoringTable>,
    excluded: Vec<bool>,
    /// The export's rules' exclusion lists as sets.
    exclusions: Exclusions,
    /// What the engine knows of products it has never seen.
    titles: TitleReader,
}

impl Engine {
    /// Prepares an engine over a decoded export, rebuilding its basket model if it has one.
    pub fn new(export: Export) -> Result<Self, SuggestError> {
        let exclusions = Exclusions::of(&export.rules);
        let excluded: Vec<bool> = export
            .catalog
            .products()
            .iter()
            .map(|p| exclusions.excludes(p))
            .collect();
        let model = match &export.model {
            Some(m) => Some(m.load(&export.catalog.titles(), export.pq.as_ref())?),
            None => None,
        };
        let scoring = match &model {
            Some(m) => Some(ScoringTable::new(m, export.pq.as_deref(), &excluded)?),
            None => None,
        };
        let titles = TitleReader::new(&export);
        Ok(Self {
            export,
            model,
            scoring,
            excluded,
            exclusions,
            titles,
        })
    }

    /// What the call's steps read of the engine.
    pub fn sources(&self) -> Sources<'_> {
        Sources {
            export: &self.export,
            excluded: &self.excluded,
            exclusions: &self.exclusions,
            scoring: self.scoring.as_ref(),
            titles: &self.titles,
        }
    }

    /// The table the catalog-scoring kernels rank, when the export has a basket model.
    pub fn scoring_table(&self) -> Option<&ScoringTable> {
        self.scoring.as_ref()
    }

    /// The kernel query a ranking needs: `None` when its blend does not consult the model, the
    /// export has none, or the cart is empty.
    pub fn model_query(&self, q: &Query) -> Result<Option<ModelQuery>, SuggestError> {
        scoring::model_query(self.model.as_ref(), q)
    }

    /// Runs a query on the CPU kernel: the reference every other backend must equal.
    pub fn cpu_hits(&self, query: &ModelQuery) -> Result<Vec<Hit>, SuggestError> {
        let table = self.scoring.as_ref().ok_or(SuggestError::NoModel)?;
        scoring::cpu_hits(table, query)
    }

    /// The export behind the engine.
    pub fn export(&self) -> &Export {
        &self.export
    }

    /// The basket model, when the export has one.
    pub fn model(&self) -> Option<&BasketModel> {
        self.model.as_ref()
    }

    /// What the engine knows of products it has never seen (priors, category lifts, titles).
    pub fn titles(&self) -> &TitleReader {
        &self.titles
    }

    /// The model query of a ranking and its best rows on the CPU kernel; none when the blend
    /// does not consult the model.
    fn cpu_scored(
        &self,
        q: &Query,
    ) -> Result<(Option<ModelQuery>, Option<Vec<Hit>>), SuggestError> {
        let query = self.model_query(q)?;
        let hits = query.as_ref().map(|q| self.cpu_hits(q)).transpose()?;
        Ok((query, hits))
    }

    /// The blend's evidence for every candidate add-on of a cart, unordered (see
    /// [`candidates::gather`]), the model scored on the CPU kernel.
    pub fn features(&self, q: &Query) -> Result<Vec<(Features, Evidence)>, SuggestError> {
        let (query, hits) = self.cpu_scored(q)?;
        candidates::gather(&self.sources(), q, query.as_ref().zip(hits.as_deref()))
    }

    /// Ranks candidate add-ons for a query, best first, ties by item index (see
    /// [`candidates::rank`]), the model scored on the CPU kernel.
    pub fn candidates(&self, q: &Query) -> Result<Vec<Candidate>, SuggestError> {
        let (query, hits) = self.cpu_scored(q)?;
        candidates::rank(
            &self.sources(),
            q,
            query.as_ref().zip(hits.as_deref()),
            &Fresh::default(),
        )
    }

    /// The cart's distinct known items (indices, in cart order) and its unknown ids.
    fn resolve(&self, cart: &Cart) -> (Vec<u32>, Vec<String>) {
        self.resolve_ids(cart.items.iter().map(CartEntry::id))
    }

    /// Title vectors of the cart's unknown ids that came with a title the basket model can
    /// read (or are among the call's new items), with those ids; the rest of `unknown` stays
    /// unknown.
    fn cold_cart_vectors(
        &self,
        cart: &Cart,
        fresh: &Fresh,
        unknown: &mut Vec<String>,
    ) -> Result<(Vec<candle_core::Tensor>, Vec<String>), SuggestError> {
        let mut vectors = Vec::new();
        let mut read = Vec::new();
        for entry in &cart.items {
            let id = entry.id();
            let listed = || fresh.lookup(id).map(|p| p.title.as_str());
            let Some(title) = entry.title().or_else(listed) else {
                continue;
            };
            if read.iter().any(|r| r == id) || !unknown.iter().any(|u| u == id) {
                continue;
            }
            if let Some(v) = self.titles.read(self.model.as_ref(), title)? {
                let v = candle_core::Tensor::new(v.as_slice(), &candle_core::Device::Cpu)?;
                vectors.push(v);
                read.push(id.to_string());
            }
        }
        unknown.retain(|u| !read.contains(u));
        Ok((vectors, read))
    }

    /// Distinct known items of a list of ids (indices, in order) and its unknown ids.
    fn resolve_ids<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> (Vec<u32>, Vec<String>) {
        let mut known: Vec<u32> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for id in ids {
            match self.export.catalog.lookup(id) {
                Some(i) if !known.contains(&i) => known.push(i),
                Some(_) => {}
                None if !unknown.iter().any(|u| u == id) => unknown.push(id.to_string()),
                None => {}
            }
        }
        (known, unknown)
    }

    /// Checks a bundle offer as the shop's server does at checkout (see [`verify::verify`]).
    pub fn verify(&self, claim: &verify::Claim) -> verify::Verdict {
        let (cart, _) = self.resolve_ids(claim.cart.iter().map(CartEntry::id));
        verify::verify(&self.sources(), &cart, claim)
    }

    /// The basket model's own top `k` completions of a cart with their logits, cart items
    /// left out (ties by item index): what both builds must agree on.
    pub fn model_scores(&self, cart: &Cart, k: u32) -> Result<ModelScores, SuggestError> {
        if !(1..=MAX_K).contains(&k) {
            return Err(SuggestError::K(k));
        }
        budget::check_cart(cart)?;
        let model = self.model.as_ref().ok_or(SuggestError::NoModel)?;
        let (in_cart, unknown) = self.resolve(cart);
        let logits = model.cart_logits(&ModelInput {
            cart: &in_cart,
            ..Default::default()
        })?;
        let items = top_items(&logits, k as usize, |j| !in_cart.contains(&j));
        Ok(ModelScores {
            items: items
                .iter()
                .map(|&j| self.export.catalog.get(j).id.clone())
                .collect(),
            scores: items.iter().map(|&j| logits[j as usize]).collect(),
            unknown,
        })
    }

    /// Answers one cart: ranking, bundles, prices and reasons. `clock_month` is used when the
    /// options name no month. Catalog scoring runs on the CPU kernel.
    pub fn suggest(
        &self,
        cart: &Cart,
        options: &SuggestOptions,
        clock_month: u8,
    ) -> Result<Suggestions, SuggestError> {
        let pending = self.begin(cart, options, clock_month)?;
        let hits = pending.query().map(|q| self.cpu_hits(q)).transpose()?;
        self.finish(pending, hits)
    }

    /// Checks a call and prepares its catalog scoring: the first half of [`Engine::suggest`].
    pub fn begin(
        &self,
        cart: &Cart,
        options: &SuggestOptions,
        clock_month: u8,
    ) -> Result<Pending, SuggestError> {
        budget::check_cart(cart)?;
        budget::check_options(options)?;
        let k = options.k.unwrap_or(DEFAULT_K);
        if !(1..=MAX_K).contains(&k) {
            return Err(SuggestError::K(k));
        }
        let month = options.month.unwrap_or(clock_month);
        if !(1..=12).contains(&month) {
            return Err(SuggestError::Month(month));
        }
        let rules = options.apply(&self.export.rules, &self.export.catalog)?;
        let fresh = self
            .titles
            .fresh(self.model.as_ref(), &self.export, &options.new_items)?;
        let shelf = fresh.shelf(&self.export.catalog);
        // Stock of ids neither the export nor the call knows cannot matter: those items are
        // never suggested.
        let stock = options
            .stock
            .iter()
            .filter_map(|(id, &n)| shelf.lookup(id).map(|i| (i, n)))
            .collect();
        let (in_cart, mut unknown) = self.resolve(cart);
        let (unseen, cold_start) = self.cold_cart_vectors(cart, &fresh, &mut unknown)?;
        let (history, unknown_history) = self.resolve_ids(cart.history.iter().map(String::as_str));
        let query = self.model_query(&Query {
            history: &history,
            unseen: &unseen,
            ..Query::new(&in_cart, month, self.export.blend_for(&history))
        })?;
        Ok(Pending {
            in_cart,
            history,
            unknown,
            unknown_history,
            cold_start,
            k,
            new_item_slots: options
                .new_item_slots
                .unwrap_or(DEFAULT_NEW_ITEM_SLOTS)
                .min(k),
            month,
            terms: Terms::new(rules, stock, fresh),
            query,
        })
    }

    /// Ranks, bundles, prices and explains a prepared call given its query's best rows: the
    /// second half of [`Engine::suggest`]. `hits` must answer `pending.query()`.
    pub fn finish(
        &self,
        pending: Pending,
        hits: Option<Vec<Hit>>,
    ) -> Result<Suggestions, SuggestError> {
        let Pending {
            in_cart,
            history,
            unknown,
            unknown_history,
            cold_start,
            k,
            new_item_slots,
            month,
            mut terms,
            query,
        } = pending;
        let scored = match (&query, &hits) {
            (Some(q), Some(h)) => Some((q, h.as_slice())),
            (None, _) => None,
            (Some(_), None) => return Err(SuggestError::MissingScores),
        };
        let query = Query {
            history: &history,
            ..Query::new(&in_cart, month, self.export.blend_for(&history))
        };
        let src = self.sources();
        let mut candidates = candidates::rank(&src, &query, scored, &terms.fresh)?;
        let shelf = terms.fresh.shelf(&self.export.catalog);
        // A new item the cart already holds came in as a cold cart item (or stayed unknown).
        let carried = |id: &String| cold_start.contains(id) || unknown.contains(id);
        candidates.retain(|c| {
            !src.blocked(c.item, &terms)
                && terms.stock.get(&c.item) != Some(&0)
                && !carried(&shelf.get(c.item).id)
        });
        candidates::hold_places(
            &mut candidates,
            k as usize,
            new_item_slots as usize,
            |c: &Candidate| matches!(c.evidence, Evidence::New { .. }),
        );
        let items = candidates
            .iter()
            .take(k as usize)
            .map(|c| shelf.get(c.item).id.clone())
            .collect();
        // The new items a bundle may hold get their look-alike for the "similar title" reason.
        let bundled: Vec<u32> = bundles::pool(&candidates, shelf, k as usize)
            .iter()
            .map(|c| c.item)
            .collect();
        terms.fresh.look_alike =
            self.titles
                .look_alikes(self.model.as_ref(), &self.export, &terms.fresh, &bundled)?;
        // Reasons cite history items the cart does not already explain.
        let past: Vec<u32> = history
            .into_iter()
            .filter(|h| !in_cart.contains(h))
            .collect();
        let bundles = bundles::build(
            &src,
            &in_cart,
            &past,
            &candidates,
            &terms,
            month,
            k as usize,
        );
        Ok(Suggestions {
            items,
            bundles,
            unknown,
            unknown_history,
            cold_start,
        })
    }
}
