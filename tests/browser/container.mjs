// The export container (model-export/FORMAT.md) in JS, for tests that take files apart and put
// them back together with valid checksums, as a forger with a hex editor would.
import { inflateRawSync } from "node:zlib";

/** CRC-32 (IEEE), as the export's checksums. */
export function crc32(bytes) {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** The container's sections as {tag, flags, payload} (model-export/FORMAT.md). */
export function readSections(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(12, true);
  return Array.from({ length: count }, (_, k) => {
    const e = 32 + 32 * k;
    const offset = Number(view.getBigUint64(e + 8, true));
    const length = Number(view.getBigUint64(e + 16, true));
    return { tag: String.fromCharCode(...bytes.slice(e, e + 4)), flags: view.getUint32(e + 4, true), payload: bytes.slice(offset, offset + length) };
  });
}

/** Lays sections out again with valid checksums, as a forger with a hex editor would. */
export function writeSections(sections, version) {
  let cursor = 32 + 32 * sections.length;
  const offsets = sections.map((s) => { cursor = Math.ceil(cursor / 8) * 8; const at = cursor; cursor += s.payload.length; return at; });
  const out = new Uint8Array(cursor);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode("CARTWISE"));
  view.setUint32(8, version, true);
  view.setUint32(12, sections.length, true);
  view.setBigUint64(16, BigInt(cursor), true);
  sections.forEach((s, k) => {
    const e = 32 + 32 * k;
    out.set(new TextEncoder().encode(s.tag), e);
    view.setUint32(e + 4, s.flags, true);
    view.setBigUint64(e + 8, BigInt(offsets[k]), true);
    view.setBigUint64(e + 16, BigInt(s.payload.length), true);
    view.setUint32(e + 24, crc32(s.payload), true);
    out.set(s.payload, offsets[k]);
  });
  view.setUint32(24, crc32(new Uint8Array([...out.slice(0, 24), ...out.slice(32, 32 + 32 * sections.length)])), true);
  return out;
}

/** A section's payload as its decoder reads it: inflated when it is stored DEFLATE. */
export function rawPayload(section) {
  if (!(section.flags & 2)) return section.payload;
  return new Uint8Array(inflateRawSync(section.payload.slice(8)));
}

/** Where a raw CATL payload's price column starts (`i64[items]`), after the id, title and
 * category string tables and the category indices. */
export function priceColumn(raw) {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let at = 0;
  const u32 = () => { const v = view.getUint32(at, true); at += 4; return v; };
  const skipStrings = () => {
    const n = u32();
    let last = 0;
    for (let i = 0; i <= n; i++) last = u32();
    at += last;
    return n;
  };
  const items = skipStrings();
  skipStrings();
  skipStrings();
  at += 4 * items;
  return { at, items };
}
