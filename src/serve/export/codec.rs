//! Little-endian byte writer and bounds-checked reader for section payloads.

/// Appends little-endian values to a section payload.
#[derive(Debug, Default)]
pub struct ByteWriter(pub Vec<u8>);

impl ByteWriter {
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }
    /// A u32 column as four byte planes (every value's byte 0, then byte 1, …): small ids leave
    /// the high planes zero, which DEFLATE all but erases.
    pub fn u32_planes(&mut self, v: &[u32]) {
        for k in 0..4 {
            self.0.extend(v.iter().map(|x| x.to_le_bytes()[k]));
        }
    }
    /// Fixed-width rows of which many may equal `default`: the row count, a bitmap of the rows
    /// stored (bit `i % 8` of byte `i / 8`), then those rows in index order. A catalog-sized
    /// column of defaults costs a bit a row, so no section deflates past the reader's bomb
    /// ratio; a column with no default costs a byte per 8 rows more than storing it whole.
    pub fn sparse_rows<const W: usize>(&mut self, rows: &[[u8; W]], default: [u8; W]) {
        self.u32(rows.len() as u32);
        let mut bitmap = vec![0u8; rows.len().div_ceil(8)];
        for (i, row) in rows.iter().enumerate() {
            if *row != default {
                bitmap[i / 8] |= 1 << (i % 8);
            }
        }
        self.bytes(&bitmap);
        for row in rows.iter().filter(|r| **r != default) {
            self.bytes(row);
        }
    }
    /// A length-prefixed table of strings: count, count + 1 byte offsets, UTF-8 bytes.
    pub fn strings<'a>(&mut self, items: impl ExactSizeIterator<Item = &'a str> + Clone) {
        self.u32(items.len() as u32);
        let mut offset = 0u32;
        self.u32(0);
        for s in items.clone() {
            offset += s.len() as u32;
            self.u32(offset);
        }
        for s in items {
            self.bytes(s.as_bytes());
        }
    }
}

/// Reads a section payload; every read is bounds-checked and fails with a reason.
#[derive(Debug)]
pub struct ByteReader<'a> {
    data: &'a [u8],
    pos: usize,
}

/// Why a payload could not be decoded.
pub type DecodeError = String;

impl<'a> ByteReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end {
            Some(end) => {
                let out = &self.data[self.pos..end];
                self.pos = end;
                Ok(out)
            }
            None => Err(format!(
                "{what}: needs {n} bytes at offset {}, section has {}",
                self.pos,
                self.data.len()
            )),
        }
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub fn u32(&mut self, what: &str) -> Result<u32, DecodeError> {
        self.array(what).map(u32::from_le_bytes)
    }

    /// A count that must fit in the remaining bytes at `unit` bytes each (guards allocations).
    pub fn count(&mut self, unit: usize, what: &str) -> Result<usize, DecodeError> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(unit) > self.data.len() - self.pos {
            return Err(format!("{what}: count {n} exceeds the section"));
        }
        Ok(n)
    }

    /// `n` fixed-size little-endian values decoded by `from`.
    fn column<const N: usize, T>(
        &mut self,
        n: usize,
        what: &str,
        from: fn([u8; N]) -> T,
    ) -> Result<Vec<T>, DecodeError> {
        let raw = self.take(n.checked_mul(N).ok_or(format!("{what}: too long"))?, what)?;
        Ok(raw
            .chunks_exact(N)
            .map(|c| from(c.try_into().expect("chunk of N")))
            .collect())
    }
    pub fn u32s(&mut self, n: usize, what: &str) -> Result<Vec<u32>, DecodeError> {
        self.column(n, what, u32::from_le_bytes)
    }
    /// A column written by [`ByteWriter::u32_planes`].
    pub fn u32_planes(&mut self, n: usize, what: &str) -> Result<Vec<u32>, DecodeError> {
        let bytes = self.take(n.saturating_mul(4), what)?;
        let (b0, rest) = bytes.split_at(n);
        let (b1, rest) = rest.split_at(n);
        let (b2, b3) = rest.split_at(n);
        Ok((0..n)
            .map(|i| u32::from_le_bytes([b0[i], b1[i], b2[i], b3[i]]))
            .collect())
    }
    pub fn f32s(&mut self, n: usize, what: &str) -> Result<Vec<f32>, DecodeError> {
        self.column(n, what, f32::from_le_bytes)
    }
    pub fn i64s(&mut self, n: usize, what: &str) -> Result<Vec<i64>, DecodeError> {
        self.column(n, what, i64::from_le_bytes)
    }

    /// Rows written by [`ByteWriter::sparse_rows`]: at most `limit` rows (the catalog's size, so
    /// a forged count cannot allocate past what the file describes), no bit set past the last
    /// row, the rows not stored filled with `default`.
    pub fn sparse_rows<const W: usize>(
        &mut self,
        limit: usize,
        default: [u8; W],
        what: &str,
    ) -> Result<Vec<[u8; W]>, DecodeError> {
        let n = self.u32(what)? as usize;
        if n > limit {
            return Err(format!("{what}: {n} rows, the catalog has {limit} items"));
        }
        let bitmap = self.take(n.div_ceil(8), what)?;
        if !n.is_multiple_of(8) && bitmap[n / 8] >> (n % 8) != 0 {
            return Err(format!("{what}: the bitmap marks rows past the last ({n})"));
        }
        let mut rows = vec![default; n];
        for (i, row) in rows.iter_mut().enumerate() {
            if bitmap[i / 8] & (1 << (i % 8)) != 0 {
                *row = self.array(what)?;
            }
        }
        Ok(rows)
    }

    /// A string table written by [`ByteWriter::strings`], validated (monotonic, UTF-8).
    pub fn strings(&mut self, what: &str) -> Result<Vec<String>, DecodeError> {
        let n = self.count(4, what)?;
        let offsets = self.u32s(n + 1, what)?;
        if offsets[0] != 0 || offsets.windows(2).any(|w| w[0] > w[1]) {
            return Err(format!("{what}: string offsets are not increasing"));
        }
        let blob = self.take(offsets[n] as usize, what)?;
        let text = std::str::from_utf8(blob).map_err(|e| format!("{what}: invalid UTF-8: {e}"))?;
        offsets
            .windows(2)
            .map(|w| {
                text.get(w[0] as usize..w[1] as usize)
                    .map(str::to_string)
                    .ok_or_else(|| format!("{what}: string split inside a character"))
            })
            .collect()
    }

    /// Fails unless the whole payload was consumed.
    pub fn finish(self, what: &str) -> Result<(), DecodeError> {
        if self.pos == self.data.len() {
            Ok(())
        } else {
            Err(format!(
                "{what}: {} trailing bytes",
                self.data.len() - self.pos
            ))
        }
    }
}
