//! Monthly seasonal index per item: how much more often an item sells in a month than usual.

/// Fixed-point scale of stored factors: a stored 32 means 1.0× (no seasonal effect).
pub const SCALE: f32 = 32.0;

/// Month names for reasons, January first.
pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Per item, a factor for each calendar month, stored as u8 fixed point (÷ [`SCALE`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeasonalIndex {
    /// `factors[i][m]` for item `i`, month `m` (0 = January).
    pub factors: Vec<[u8; 12]>,
}

impl SeasonalIndex {
    /// The factor for an item in a month (1..=12); 1.0 for items without data.
    pub fn factor(&self, item: u32, month: u8) -> f32 {
        match self.factors.get(item as usize) {
            Some(row) if (1..=12).contains(&month) => row[month as usize - 1] as f32 / SCALE,
            _ => 1.0,
        }
    }
}
