//! Building the association table: item and pair counts over orders ([`count`]), the top-K
//! neighbours per item with their stored scores ([`build`]), and frequent 3-itemsets
//! ([`itemsets`]). What of them a public export may carry is [`crate::train::publish`], over
//! the counts ([`crate::train::counts`]) these build on. It writes the serving core's table
//! types (`serve::assoc`) and uses nothing else of training.

pub mod build;
pub mod count;
pub mod itemsets;
