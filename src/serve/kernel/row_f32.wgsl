// f32 rows against an f32 query, summed in row order (as the CPU kernel).

fn row_score(row: u32, q: u32) -> f32 {
    var acc = 0.0;
    let base = row * params.words;
    for (var w = 0u; w < params.words; w = w + 1u) {
        acc = acc + bitcast<f32>(table[base + w]) * bitcast<f32>(queries[q + w]);
    }
    return acc;
}
