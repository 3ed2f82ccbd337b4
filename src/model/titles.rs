//! Title tokens: a WordPiece tokenizer built from the catalog's titles, and each item's token ids.

use tokenizers::Tokenizer;

/// Unknown-token string of the title tokenizer.
pub const UNK: &str = "[UNK]";

/// Builds the title tokenizer from the catalog's titles (natively only): a WordPiece model whose
/// vocabulary is every character (word-initial and `##` continuation) plus the `vocab_size`
/// most frequent whole words seen at least twice, ties by spelling.
///
/// The vocabulary is derived deterministically (the crate's BPE-based trainer breaks ties
/// differently run to run, which would make training irreproducible); an unseen word still
/// splits into known pieces, so a new item's title always yields tokens.
#[cfg(feature = "cli")]
pub fn train_tokenizer<'a>(
    titles: impl Iterator<Item = &'a str>,
    vocab_size: usize,
) -> Result<Tokenizer, String> {
    use std::collections::{BTreeMap, BTreeSet};
    use tokenizers::models::wordpiece::WordPiece;
    use tokenizers::normalizers::BertNormalizer;
    use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
    use tokenizers::{Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};
    let mut words: BTreeMap<String, u64> = BTreeMap::new();
    let mut chars: BTreeSet<char> = BTreeSet::new();
    for title in titles {
        let mut pre = PreTokenizedString::from(title);
        pre.normalize(|s| BertNormalizer::default().normalize(s))
            .map_err(|e| e.to_string())?;
        BertPreTokenizer
            .pre_tokenize(&mut pre)
            .map_err(|e| e.to_string())?;
        for (word, _, _) in pre.get_splits(OffsetReferential::Original, OffsetType::Byte) {
            chars.extend(word.chars());
            *words.entry(word.to_string()).or_default() += 1;
        }
    }
    let mut frequent: Vec<(&String, &u64)> = words.iter().filter(|(_, &n)| n >= 2).collect();
    frequent.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut tokens: Vec<String> = vec![UNK.to_string()];
    tokens.extend(chars.iter().map(|c| c.to_string()));
    tokens.extend(chars.iter().map(|c| format!("##{c}")));
    let singles: BTreeSet<String> = tokens.iter().cloned().collect();
    tokens.extend(
        frequent
            .into_iter()
            .map(|(w, _)| w.clone())
            .filter(|w| !singles.contains(w))
            .take(vocab_size),
    );
    let vocab: ahash::AHashMap<String, u32> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, i as u32))
        .collect();
    let model = WordPiece::builder()
        .vocab(vocab)
        .unk_token(UNK.into())
        .build()
        .map_err(|e| e.to_string())?;
    let mut tokenizer = Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(BertNormalizer::default()))
        .map_err(|e| e.to_string())?;
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    Ok(tokenizer)
}

/// Loads a tokenizer from its JSON (as stored in the export).
pub fn tokenizer_from_json(json: &str) -> Result<Tokenizer, String> {
    json.parse::<Tokenizer>()
        .map_err(|e| format!("tokenizer JSON: {e}"))
}

/// Token ids of every title as flat arrays: `(token ids, owning item)`; titles with no token
/// contribute nothing (the item then has only its id vector).
pub fn title_tokens(
    tokenizer: &Tokenizer,
    titles: &[&str],
) -> Result<(Vec<u32>, Vec<u32>), String> {
    let mut ids = Vec::new();
    let mut owner = Vec::new();
    for (item, title) in titles.iter().enumerate() {
        let enc = tokenizer
            .encode(*title, false)
            .map_err(|e| format!("tokenizing {title:?}: {e}"))?;
        for &t in enc.get_ids() {
            ids.push(t);
            owner.push(item as u32);
        }
    }
    Ok((ids, owner))
}
