// Product-quantization rows: one byte code per subspace, four a word. The query is its lookup
// table quantized to int16 (two entries a word, 256 entries per subspace) followed by the
// table's scale: the entries a row's codes pick are summed exactly in i32 and rounded once by
// the scale (as `kernel::pq::pq_score`). extractBits on i32 sign-extends.

fn row_score(row: u32, q: u32) -> f32 {
    var acc = 0i;
    let base = row * params.words;
    for (var w = 0u; w < params.words; w = w + 1u) {
        let word = table[base + w];
        for (var b = 0u; b < 4u; b = b + 1u) {
            let at = (4u * w + b) * 256u + extractBits(word, 8u * b, 8u);
            let pair = bitcast<i32>(queries[q + at / 2u]);
            acc = acc + extractBits(pair, 16u * (at % 2u), 16u);
        }
    }
    return f32(acc) * bitcast<f32>(queries[q + params.words * 512u]);
}
