// int8 rows with a per-row scale, against an int8 query whose scale follows its words: the exact
// integer dot product, rounded once by the product of the scales (as `kernel::int8_score`).

@group(0) @binding(2) var<storage, read> scales: array<f32>;

fn dot4i8(a: u32, b: u32) -> i32 {
    let x = bitcast<i32>(a);
    let y = bitcast<i32>(b);
    return extractBits(x, 0u, 8u) * extractBits(y, 0u, 8u)
        + extractBits(x, 8u, 8u) * extractBits(y, 8u, 8u)
        + extractBits(x, 16u, 8u) * extractBits(y, 16u, 8u)
        + extractBits(x, 24u, 8u) * extractBits(y, 24u, 8u);
}

fn row_score(row: u32, q: u32) -> f32 {
    var acc = 0i;
    let base = row * params.words;
    for (var w = 0u; w < params.words; w = w + 1u) {
        acc = acc + dot4i8(table[base + w], queries[q + w]);
    }
    return f32(acc) * (scales[row] * bitcast<f32>(queries[q + params.words]));
}
