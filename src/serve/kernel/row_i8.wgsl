// int8 rows with a per-row scale, against an int16 query (two values a word) whose scale
// follows its words: the exact integer dot product, rounded once by the product of the scales
// (as `kernel::int8_score`). extractBits on i32 sign-extends.

@group(0) @binding(2) var<storage, read> scales: array<f32>;

fn dot4(row_word: u32, q_lo: u32, q_hi: u32) -> i32 {
    let x = bitcast<i32>(row_word);
    let a = bitcast<i32>(q_lo);
    let b = bitcast<i32>(q_hi);
    return extractBits(x, 0u, 8u) * extractBits(a, 0u, 16u)
        + extractBits(x, 8u, 8u) * extractBits(a, 16u, 16u)
        + extractBits(x, 16u, 8u) * extractBits(b, 0u, 16u)
        + extractBits(x, 24u, 8u) * extractBits(b, 16u, 16u);
}

fn row_score(row: u32, q: u32) -> f32 {
    var acc = 0i;
    let base = row * params.words;
    for (var w = 0u; w < params.words; w = w + 1u) {
        acc = acc + dot4(table[base + w], queries[q + 2u * w], queries[q + 2u * w + 1u]);
    }
    return f32(acc) * (scales[row] * bitcast<f32>(queries[q + 2u * params.words]));
}
