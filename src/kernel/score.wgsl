// Catalog scoring fused with top-k selection.
//
// The host appends `row_i8.wgsl` or `row_f32.wgsl`, which define `row_score(row, q)`.
// `score`: one workgroup scores CHUNK rows of one tile against one query (workgroup_id.y), sorts
// them in workgroup memory and writes that chunk's best `k` (score bits, item) to `partials`. `merge`:
// one workgroup per query selects the best `k` of all its partial lists into `results`, so only
// k entries per query are read back. Order: higher score first, then lower item index; NONE
// marks an empty entry.

struct Params {
    rows: u32,         // rows in this tile
    row_base: u32,     // catalog index of the tile's first row
    words: u32,        // u32 words per row: dim / 4 (int8) or dim (f32)
    k: u32,
    wg_base: u32,      // this tile's first chunk among a query's partial lists
    wg_total: u32,     // partial lists per query, over all tiles
    query_stride: u32, // u32 words per query: words, plus the scale word for int8
    pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(3) var<storage, read> queries: array<u32>;
@group(0) @binding(4) var<storage, read_write> partials: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read_write> results: array<vec2<u32>>;

const WG: u32 = 256u;
const PER: u32 = 4u;
const CHUNK: u32 = 1024u;
const NONE: u32 = 0xffffffffu;

var<workgroup> s_score: array<f32, CHUNK>;
var<workgroup> s_item: array<u32, CHUNK>;
var<workgroup> r_score: array<f32, WG>;
var<workgroup> r_item: array<u32, WG>;
var<workgroup> r_slot: array<u32, WG>;

fn better(sa: f32, ia: u32, sb: f32, ib: u32) -> bool {
    if ia == NONE { return false; }
    if ib == NONE { return true; }
    return sa > sb || (sa == sb && ia < ib);
}

// Offers each thread's best candidate (score, item, where it came from) and reduces them to
// the workgroup's best in r_*[0].
fn reduce_best(lid: u32, score: f32, item: u32, slot: u32) {
    r_score[lid] = score;
    r_item[lid] = item;
    r_slot[lid] = slot;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride && better(r_score[lid + stride], r_item[lid + stride], r_score[lid], r_item[lid]) {
            r_score[lid] = r_score[lid + stride];
            r_item[lid] = r_item[lid + stride];
            r_slot[lid] = r_slot[lid + stride];
        }
        workgroupBarrier();
    }
}

// Sorts the chunk's CHUNK entries in s_* best first (a bitonic network: 55 barrier steps for any
// k, where selecting k one by one took k reductions) and writes the first k to partials[out..].
fn select_chunk(lid: u32, out: u32) {
    workgroupBarrier();
    for (var size = 2u; size <= CHUNK; size = size * 2u) {
        for (var stride = size / 2u; stride > 0u; stride = stride / 2u) {
            for (var t = lid; t < CHUNK / 2u; t = t + WG) {
                let i = 2u * stride * (t / stride) + t % stride;
                let j = i + stride;
                // Blocks alternate direction until the last merge, which puts the best first.
                let best_first = (i & size) == 0u;
                if better(s_score[j], s_item[j], s_score[i], s_item[i]) == best_first {
                    let score = s_score[i];
                    let item = s_item[i];
                    s_score[i] = s_score[j];
                    s_item[i] = s_item[j];
                    s_score[j] = score;
                    s_item[j] = item;
                }
            }
            workgroupBarrier();
        }
    }
    for (var r = lid; r < params.k; r = r + WG) {
        partials[out + r] = vec2<u32>(bitcast<u32>(s_score[r]), s_item[r]);
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
    select_chunk(lid, (wg.y * params.wg_total + params.wg_base + wg.x) * params.k);
}

@compute @workgroup_size(256)
fn merge(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    let lid = lid3.x;
    let n = params.wg_total * params.k;
    let base = wg.y * n;
    for (var r = 0u; r < params.k; r = r + 1u) {
        var bs = 0.0;
        var bi = NONE;
        var bslot = NONE;
        for (var e = lid; e < n; e = e + WG) {
            let p = partials[base + e];
            let s = bitcast<f32>(p.x);
            if better(s, p.y, bs, bi) {
                bs = s;
                bi = p.y;
                bslot = e;
            }
        }
        reduce_best(lid, bs, bi, bslot);
        if lid == 0u {
            results[wg.y * params.k + r] = vec2<u32>(bitcast<u32>(r_score[0]), r_item[0]);
            if r_slot[0] != NONE {
                partials[base + r_slot[0]].y = NONE;
            }
        }
        storageBarrier();
        workgroupBarrier();
    }
}
