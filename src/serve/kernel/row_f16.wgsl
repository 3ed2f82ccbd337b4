// f16 rows against an f16 query, two values per word. `unpack2x16float` is core WGSL, so no
// adapter needs `shader-f16` (whose `bitcast<vec2<f16>>` scored wrongly on Mesa's lavapipe
// 22.3.6). Each product of two f16 values is exact in f32 and the sum runs in row order, so the
// score equals the CPU kernel's f32 score of the same values rounded to f16.

fn row_score(row: u32, q: u32) -> f32 {
    var acc = 0.0;
    let base = row * params.words;
    for (var w = 0u; w < params.words; w = w + 1u) {
        let p = unpack2x16float(table[base + w]) * unpack2x16float(queries[q + w]);
        acc = acc + p.x;
        acc = acc + p.y;
    }
    return acc;
}
