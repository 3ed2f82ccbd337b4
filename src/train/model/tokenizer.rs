//! Builds the title tokenizer from the catalog's titles.

use crate::serve::model::titles::{TitleError, UNK};
use tokenizers::Tokenizer;

/// Builds the title tokenizer from the catalog's titles (natively only): a WordPiece model whose
/// vocabulary is every character (word-initial and `##` continuation) plus the `vocab_size`
/// most frequent whole words seen at least twice, ties by spelling.
///
/// The vocabulary is derived deterministically (the crate's BPE-based trainer breaks ties
/// differently run to run, which would make training irreproducible); an unseen word still
/// splits into known pieces, so a new item's title always yields tokens.
pub fn train_tokenizer<'a>(
    titles: impl Iterator<Item = &'a str>,
    vocab_size: usize,
) -> Result<Tokenizer, TitleError> {
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
            .map_err(TitleError::new("building the title tokenizer"))?;
        BertPreTokenizer
            .pre_tokenize(&mut pre)
            .map_err(TitleError::new("building the title tokenizer"))?;
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
        .map_err(TitleError::new("building the title tokenizer"))?;
    let mut tokenizer = Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(BertNormalizer::default()))
        .map_err(TitleError::new("building the title tokenizer"))?;
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    Ok(tokenizer)
}
