//! The one symmetric quantizer: int8 rows (the scoring kernels' item table, sparse EASE
//! weights) and int16 queries, each a scale (largest |value| / largest code) and rounded codes.

/// Symmetric int8 quantization of one vector: (scale, codes) with value ≈ code × scale; `None`
/// if a value is not finite. An all-zero vector gets scale 0.
pub fn quantize(values: &[f32]) -> Option<(f32, Vec<i8>)> {
    symmetric(values, 127.0).map(|(scale, codes)| (scale, codes.map(|c| c as i8).collect()))
}

/// Symmetric int16 quantization of a query for an int8 table: (scale, codes) with value ≈ code ×
/// scale. 16 bits, not 8: a query computed by two builds (native, wasm) can differ in its last
/// bits, and a code that rounds the other way then moves scores by 1/32767 of the largest value
/// rather than by 1/127. `None` if a value is not finite.
pub fn quantize_query(values: &[f32]) -> Option<(f32, Vec<i16>)> {
    symmetric(values, 32767.0).map(|(scale, codes)| (scale, codes.map(|c| c as i16).collect()))
}

/// The scale (largest |value| / `max_code`, 0 for an all-zero vector) and each value's rounded
/// code in ±`max_code`, for both quantizers; `None` if a value is not finite.
fn symmetric(values: &[f32], max_code: f32) -> Option<(f32, impl Iterator<Item = f32> + '_)> {
    if values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let max = values.iter().fold(0f32, |m, v| m.max(v.abs()));
    let scale = max / max_code;
    let codes = values.iter().map(move |v| match scale {
        0.0 => 0.0,
        _ => (v / scale).round().clamp(-max_code, max_code),
    });
    Some((scale, codes))
}
