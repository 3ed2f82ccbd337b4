//! Title tokens: a WordPiece tokenizer built from the catalog's titles, and each item's token ids.

use tokenizers::Tokenizer;

/// Unknown-token string of the title tokenizer.
pub const UNK: &str = "[UNK]";

/// A tokenizer step that failed, with what it was doing (e.g. `tokenizing "Blue Mug"`).
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct TitleError {
    pub context: String,
    #[source]
    pub source: tokenizers::Error,
}

impl TitleError {
    /// Wraps a tokenizers error with what was being done.
    pub fn new(context: impl Into<String>) -> impl FnOnce(tokenizers::Error) -> Self {
        let context = context.into();
        move |source| Self { context, source }
    }
}

/// Loads a tokenizer from its JSON (as stored in the export).
pub fn tokenizer_from_json(json: &str) -> Result<Tokenizer, TitleError> {
    json.parse::<Tokenizer>()
        .map_err(TitleError::new("tokenizer JSON"))
}

/// Token ids of every title as flat arrays: `(token ids, owning item)`; titles with no token
/// contribute nothing (the item then has only its id vector).
pub fn title_tokens(
    tokenizer: &Tokenizer,
    titles: &[&str],
) -> Result<(Vec<u32>, Vec<u32>), TitleError> {
    let mut ids = Vec::new();
    let mut owner = Vec::new();
    for (item, title) in titles.iter().enumerate() {
        let enc = tokenizer
            .encode(*title, false)
            .map_err(TitleError::new(format!("tokenizing {title:?}")))?;
        for &t in enc.get_ids() {
            ids.push(t);
            owner.push(item as u32);
        }
    }
    Ok((ids, owner))
}
