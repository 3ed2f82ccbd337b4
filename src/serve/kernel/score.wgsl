// Catalog scoring fused with top-k selection.
//
// The host appends `row_i8.wgsl`, `row_f16.wgsl` or `row_f32.wgsl`, which define
// `row_score(row, q)`. `score`: one workgroup scores CHUNK rows of one tile against one query
// (workgroup_id.y), selects their best `k` in workgroup memory and writes them (score bits, item)
// to `lists`. `reduce`: one workgroup takes CHUNK entries of a query's lists and writes their best
// `k` to `out`; the host repeats it (k <= CHUNK / 2, so each pass at least halves the entries)
// until one list of k per query is left, so only k entries per query are read back. Every loop
// has a fixed bound: llvmpipe stops a loop after 65,535 iterations of one invocation, which a
// single merging workgroup reached at 20,480 entries. Order: higher score first, then lower item
// index; NONE marks an empty entry.

struct Params {
    rows: u32,         // score: rows in this tile; reduce: entries per query in `lists`
    row_base: u32,     // score: catalog index of the tile's first row
    words: u32,        // score: u32 words per row
    k: u32,
    wg_base: u32,      // score: this tile's first chunk among a query's lists
    wg_total: u32,     // lists (of k) per query that this pass writes, over all tiles
    query_stride: u32, // score: u32 words per query (int8 table: int16 query, 2 × words, and its scale)
    pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(3) var<storage, read> queries: array<u32>;
@group(0) @binding(4) var<storage, read_write> lists: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read_write> out: array<vec2<u32>>;

const WG: u32 = 256u;
const PER: u32 = 4u;
const CHUNK: u32 = 1024u;
const NONE: u32 = 0xffffffffu;

var<workgroup> s_score: array<f32, CHUNK>;
var<workgroup> s_item: array<u32, CHUNK>;

fn better(sa: f32, ia: u32, sb: f32, ib: u32) -> bool {
    if ia == NONE { return false; }
    if ib == NONE { return true; }
    return sa > sb || (sa == sb && ia < ib);
}

// Orders s_*[i] and s_*[j] best first (or worst first): one comparator of a bitonic network.
fn order(i: u32, j: u32, best_first: bool) {
    if better(s_score[j], s_item[j], s_score[i], s_item[i]) == best_first {
        let score = s_score[i];
        let item = s_item[i];
        s_score[i] = s_score[j];
        s_item[i] = s_item[j];
        s_score[j] = score;
        s_item[j] = item;
    }
}

// Leaves the best k entries of s_* in s_*[0..k], best first, by bitonic top-k: a
// fixed network, so the work does not grow with k round by round. Runs of `run` entries (the
// power of two >= k) are sorted, alternately best first and worst first; then, while more than
// one run is left, each pair of runs keeps the better entry of each position (a bitonic run
// holding the pair's best `run`), which one merge network sorts again.
fn select_chunk(lid: u32) {
    workgroupBarrier();
    var run = 1u;
    while run < params.k {
        run = run * 2u;
    }
    for (var size = 2u; size <= run; size = size * 2u) {
        for (var stride = size / 2u; stride > 0u; stride = stride / 2u) {
            for (var t = lid; t < CHUNK / 2u; t = t + WG) {
                let i = 2u * stride * (t / stride) + t % stride;
                order(i, i + stride, (i & size) == 0u);
            }
            workgroupBarrier();
        }
    }
    for (var n = CHUNK; n > run; n = n / 2u) {
        // n / 2 <= CHUNK / 2 = 2 * WG survivors: two per thread at most.
        var keep_score: array<f32, 2>;
        var keep_item: array<u32, 2>;
        for (var e = 0u; e < 2u; e = e + 1u) {
            let t = lid + e * WG;
            if t < n / 2u {
                let a = 2u * run * (t / run) + t % run;
                let b = a + run;
                var pick = a;
                if better(s_score[b], s_item[b], s_score[a], s_item[a]) {
                    pick = b;
                }
                keep_score[e] = s_score[pick];
                keep_item[e] = s_item[pick];
            }
        }
        workgroupBarrier();
        for (var e = 0u; e < 2u; e = e + 1u) {
            let t = lid + e * WG;
            if t < n / 2u {
                s_score[t] = keep_score[e];
                s_item[t] = keep_item[e];
            }
        }
        workgroupBarrier();
        for (var stride = run / 2u; stride > 0u; stride = stride / 2u) {
            for (var t = lid; t < n / 4u; t = t + WG) {
                let i = 2u * stride * (t / stride) + t % stride;
                order(i, i + stride, (i & run) == 0u);
            }
            workgroupBarrier();
        }
    }
}

// Writes s_*[0..k] to `lists` (score pass) or `out` (reduce pass) from entry `at` on.
fn write_best(lid: u32, at: u32, to_lists: bool) {
    for (var r = lid; r < params.k; r = r + WG) {
        let entry = vec2<u32>(bitcast<u32>(s_score[r]), s_item[r]);
        if to_lists {
            lists[at + r] = entry;
        } else {
            out[at + r] = entry;
        }
    }
}

@compute @workgroup_size(256)
fn score(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    let lid = lid3.x;
    let q = wg.y * params.query_stride;
    for (var j = 0u; j < PER; j = j + 1u) {
        let slot = lid + j * WG;
        let row = wg.x * CHUNK + slot;
        if row < params.rows {
            s_score[slot] = row_score(row, q);
            s_item[slot] = params.row_base + row;
        } else {
            s_score[slot] = 0.0;
            s_item[slot] = NONE;
        }
    }
    select_chunk(lid);
    write_best(lid, (wg.y * params.wg_total + params.wg_base + wg.x) * params.k, true);
}

@compute @workgroup_size(256)
fn reduce(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    let lid = lid3.x;
    for (var j = 0u; j < PER; j = j + 1u) {
        let slot = lid + j * WG;
        let e = wg.x * CHUNK + slot;
        if e < params.rows {
            let entry = lists[wg.y * params.rows + e];
            s_score[slot] = bitcast<f32>(entry.x);
            s_item[slot] = entry.y;
        } else {
            s_score[slot] = 0.0;
            s_item[slot] = NONE;
        }
    }
    select_chunk(lid);
    write_best(lid, (wg.y * params.wg_total + wg.x) * params.k, false);
}
