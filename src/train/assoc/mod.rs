//! Building the association table: item and pair counts over orders ([`count`]), the top-K
//! neighbours per item with their stored scores ([`build`]), and frequent 3-itemsets
//! ([`itemsets`]), and what of them a public export may carry ([`publish`]).
//! It writes the serving core's table types (`serve::assoc`) and uses nothing else.

pub mod build;
pub mod count;
pub mod itemsets;
pub mod publish;
