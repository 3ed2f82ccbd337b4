//! The WebGPU scoring kernel through wgpu: the item table lives on the device in tiles that fit
//! its binding limits; one dispatch scores and keeps each chunk's best `k`, reduce dispatches
//! keep the best `k` of each 1,024 of those until one list per query is left, and only `k`
//! results per query are read back.

use super::pq::Codebook;
use super::{check_query, Hit, ItemTable, Rows, TableError};
use crate::serve::quant::quantize_query;
use std::sync::{Arc, Mutex};
use wgpu::util::DeviceExt;

/// Rows one workgroup scores (the shader's `CHUNK`).
const CHUNK: u64 = 1024;
/// The most workgroups one dispatch dimension may have in WebGPU.
const MAX_DISPATCH: u64 = 65_535;
/// Largest `k` one call may ask for: half a chunk, so each reduce pass at least halves a
/// query's entries.
pub const MAX_K: usize = (CHUNK / 2) as usize;

/// Why the GPU path could not run; the caller falls back to the CPU.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GpuError {
    #[error("no WebGPU adapter: {0}")]
    NoAdapter(String),
    #[error("could not open the GPU device: {0}")]
    Device(String),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("item table is empty")]
    Empty,
    #[error("k: {0} is more than {MAX_K}")]
    K(usize),
    #[error("GPU error: {0}")]
    Failed(String),
}

/// Settings of a [`GpuScorer`]; the defaults take the adapter's own limits.
#[derive(Debug, Clone, Copy, Default)]
pub struct GpuOptions {
    /// Caps the bytes of one storage binding below the adapter's limit (tests use it to force
    /// tiling on small tables).
    pub max_binding_bytes: Option<u64>,
    /// Holds an f32 table as f16 on the device: half the memory and bandwidth, scores of the
    /// values rounded to f16. Any adapter can: WGSL's `unpack2x16float` reads f16 pairs without
    /// the `shader-f16` feature. Int8 tables are unaffected.
    pub half: bool,
}

/// How the device holds the table's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// int8 rows with a per-row scale: scores bit for bit as the CPU kernel's.
    Int8,
    /// f16 rows and query, multiplied exactly in f32: scores bit for bit as the CPU kernel's on
    /// the same values rounded to f16.
    F16,
    /// f32 rows and query.
    F32,
    /// Product-quantization codes, scored through the query's int16 lookup table: scores bit
    /// for bit as the CPU kernel's.
    Pq,
}

/// One slice of the table's rows, in buffers no larger than one binding may be.
struct Tile {
    table: wgpu::Buffer,
    scales: Option<wgpu::Buffer>,
    row_base: u32,
    rows: u32,
    chunk_base: u32,
    chunks: u32,
}

/// An item table uploaded to a GPU, ready to rank queries against it.
pub struct GpuScorer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    score: wgpu::ComputePipeline,
    reduce: wgpu::ComputePipeline,
    tiles: Vec<Tile>,
    precision: Precision,
    /// A product-quantized table's codebook, for each query's lookup table.
    codebook: Option<Codebook>,
    dim: usize,
    /// u32 words per row on the device.
    row_words: u32,
    rows: usize,
    /// Chunks (partial top-k lists) per query over all tiles.
    chunks: u32,
    max_binding: u64,
    error: Arc<Mutex<Option<String>>>,
    adapter: String,
}

impl GpuScorer {
    /// Opens the default adapter and uploads `table`.
    pub async fn new(table: &ItemTable, options: GpuOptions) -> Result<Self, GpuError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("cartwise scoring"),
                required_limits: adapter.limits(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::Device(e.to_string()))?;
        Self::with_device(
            device,
            queue,
            // Browsers hide the adapter's name: then the backend alone.
            match info.name.as_str() {
                "" => format!("{:?}", info.backend),
                name => format!("{name} ({:?})", info.backend),
            },
            table,
            options,
        )
    }

    /// Uploads `table` to an opened device (an f32 table as f16 when `options.half`).
    pub fn with_device(
        device: wgpu::Device,
        queue: wgpu::Queue,
        adapter: String,
        table: &ItemTable,
        options: GpuOptions,
    ) -> Result<Self, GpuError> {
        if table.rows == 0 {
            return Err(GpuError::Empty);
        }
        let error = Arc::new(Mutex::new(None::<String>));
        let sink = error.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            sink.lock()
                .expect("error slot")
                .get_or_insert_with(|| e.to_string());
        }));
        let lost = error.clone();
        device.set_device_lost_callback(move |reason, message| {
            lost.lock()
                .expect("error slot")
                .get_or_insert_with(|| format!("device lost ({reason:?}): {message}"));
        });
        let limits = device.limits();
        let max_binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size)
            .min(options.max_binding_bytes.unwrap_or(u64::MAX));
        let precision = match table.data {
            Rows::Int8 { .. } => Precision::Int8,
            Rows::Pq(_) => Precision::Pq,
            Rows::F32(_) if options.half => Precision::F16,
            Rows::F32(_) => Precision::F32,
        };
        let source = match precision {
            Precision::Int8 => format!(
                "{}\n{}",
                include_str!("score.wgsl"),
                include_str!("row_i8.wgsl")
            ),
            Precision::F16 => format!(
                "{}\n{}",
                include_str!("score.wgsl"),
                include_str!("row_f16.wgsl")
            ),
            Precision::F32 => format!(
                "{}\n{}",
                include_str!("score.wgsl"),
                include_str!("row_f32.wgsl")
            ),
            Precision::Pq => format!(
                "{}\n{}",
                include_str!("score.wgsl"),
                include_str!("row_pq.wgsl")
            ),
        };
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("score.wgsl"),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let pipeline = |entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let score = pipeline("score");
        let reduce = pipeline("reduce");

        // Rows per tile: whole chunks, within the binding limit and one dispatch dimension.
        let row_bytes = match &table.data {
            Rows::Pq(pq) => pq.codebook.subspaces as u64,
            _ => table.dim as u64 * precision.bytes(),
        };
        let tile_rows = (max_binding / row_bytes / CHUNK).min(MAX_DISPATCH) * CHUNK;
        if tile_rows == 0 {
            return Err(GpuError::Failed(format!(
                "a binding of {max_binding} bytes cannot hold {CHUNK} rows of {row_bytes} bytes"
            )));
        }
        let mut tiles = Vec::new();
        let mut chunk_base = 0u32;
        for start in (0..table.rows as u64).step_by(tile_rows as usize) {
            let rows = tile_rows.min(table.rows as u64 - start);
            let range =
                |per_row: u64| (start * per_row) as usize..((start + rows) * per_row) as usize;
            let (bytes, scales): (Vec<u8>, Option<Vec<u8>>) = match &table.data {
                Rows::F32(v) => (precision.encode(&v[range(table.dim as u64)]), None),
                Rows::Int8 { values, scales } => (
                    values[range(table.dim as u64)]
                        .iter()
                        .map(|&x| x as u8)
                        .collect(),
                    Some(
                        scales[range(1)]
                            .iter()
                            .flat_map(|x| x.to_le_bytes())
                            .collect(),
                    ),
                ),
                Rows::Pq(pq) => (pq.codes[range(row_bytes)].to_vec(), None),
            };
            let storage = |label: &str, contents: &[u8]| {
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents,
                    usage: wgpu::BufferUsages::STORAGE,
                })
            };
            let chunks = rows.div_ceil(CHUNK) as u32;
            tiles.push(Tile {
                table: storage("item table tile", &bytes),
                scales: scales.map(|s| storage("row scales", &s)),
                row_base: start as u32,
                rows: rows as u32,
                chunk_base,
                chunks,
            });
            chunk_base += chunks;
        }
        let scorer = Self {
            device,
            queue,
            score,
            reduce,
            tiles,
            precision,
            codebook: match &table.data {
                Rows::Pq(pq) => Some(pq.codebook.clone()),
                _ => None,
            },
            dim: table.dim,
            row_words: (row_bytes / 4) as u32,
            rows: table.rows,
            chunks: chunk_base,
            max_binding,
            error,
            adapter,
        };
        scorer.check()?;
        Ok(scorer)
    }

    /// The adapter's name and backend, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan)".
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// How the device holds the table.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// How many tiles the table was split into to respect the device's binding limits.
    pub fn tiles(&self) -> usize {
        self.tiles.len()
    }

    /// Releases the device and the table's buffers now rather than when dropped; every later
    /// call fails with a [`GpuError`].
    pub fn destroy(&self) {
        self.error
            .lock()
            .expect("error slot")
            .get_or_insert_with(|| "the GPU device was released".into());
        self.device.destroy();
    }

    fn check(&self) -> Result<(), GpuError> {
        match self.error.lock().expect("error slot").clone() {
            Some(e) => Err(GpuError::Failed(e)),
            None => Ok(()),
        }
    }

    /// The best `k` rows for each query of `queries` (row-major, `dim` values each): best first,
    /// ties by row index, exactly as [`super::cpu::top_k`] ranks them on an int8 table.
    pub async fn top_k(&self, queries: &[f32], k: usize) -> Result<Vec<Vec<Hit>>, GpuError> {
        if k > MAX_K {
            return Err(GpuError::K(k));
        }
        if !queries.len().is_multiple_of(self.dim) {
            return Err(TableError::Query {
                got: queries.len() % self.dim,
                dim: self.dim,
            }
            .into());
        }
        for q in queries.chunks_exact(self.dim) {
            check_query(q, self.dim)?;
        }
        let k = k.min(self.rows);
        let count = queries.len() / self.dim;
        if k == 0 || count == 0 {
            return Ok(vec![Vec::new(); count]);
        }
        // Queries per submission: their partial lists must fit one binding.
        let per_query = u64::from(self.chunks) * k as u64 * 8;
        let batch = (self.max_binding / per_query).clamp(1, MAX_DISPATCH) as usize;
        let mut out = Vec::with_capacity(count);
        for group in queries.chunks(batch * self.dim) {
            out.extend(self.run(group, k).await?);
        }
        Ok(out)
    }

    async fn run(&self, queries: &[f32], k: usize) -> Result<Vec<Vec<Hit>>, GpuError> {
        self.check()?;
        let device = &self.device;
        let count = queries.len() / self.dim;
        let mut query_bytes = Vec::with_capacity(queries.len() * 4 + count * 4);
        const FINITE: &str = "top_k admits finite queries only";
        for q in queries.chunks_exact(self.dim) {
            let quantized = match (&self.codebook, self.precision) {
                (Some(codebook), _) => Some(codebook.lookup(q).expect(FINITE)),
                (None, Precision::Int8) => Some(quantize_query(q).expect(FINITE)),
                (None, _) => None,
            };
            match quantized {
                Some((scale, codes)) => {
                    query_bytes.extend(codes.iter().flat_map(|c| c.to_le_bytes()));
                    query_bytes.extend(scale.to_le_bytes());
                }
                None => query_bytes.extend(self.precision.encode(q)),
            }
        }
        let row_words = self.row_words;
        // An int8 table's query is int16 (twice the row's words) plus its scale; a
        // product-quantized table's is its int16 lookup table (256 entries, 128 words, per
        // subspace, four subspaces a row word) plus its scale.
        let query_stride = match self.precision {
            Precision::Int8 => 2 * row_words + 1,
            Precision::Pq => 4 * row_words * 128 + 1,
            _ => row_words,
        };
        let bytes = |w: &[u32]| w.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        // Written through the queue rather than mapped at creation: on a lost device mapping
        // panics inside wgpu, while a write fails into the error slot checked below.
        let init = |label: &str, contents: &[u8], usage: wgpu::BufferUsages| {
            let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: contents.len() as u64,
                usage: usage | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            self.queue.write_buffer(&buffer, 0, contents);
            buffer
        };
        let query_buf = init("queries", &query_bytes, wgpu::BufferUsages::STORAGE);
        // Lists of k entries ping-pong between two buffers: the score pass writes one list per
        // chunk, each reduce pass at least halves them, until one list per query is left.
        let lists_bytes = count as u64 * u64::from(self.chunks) * k as u64 * 8;
        let lists = [0, 1].map(|_| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("top-k lists"),
                size: lists_bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            })
        });
        let results_size = count as u64 * k as u64 * 8;
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("top-k readback"),
            size: results_size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let params = |p: [u32; 8]| init("params", &bytes(&p), wgpu::BufferUsages::UNIFORM);
        let mut encoder = device.create_command_encoder(&Default::default());
        let mut current = 0;
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.score);
            for tile in &self.tiles {
                let p = params([
                    tile.rows,
                    tile.row_base,
                    row_words,
                    k as u32,
                    tile.chunk_base,
                    self.chunks,
                    query_stride,
                    0,
                ]);
                // `out` is bound but not written by this pass; it may not alias `lists`.
                let mut entries = vec![
                    entry(0, &p),
                    entry(1, &tile.table),
                    entry(3, &query_buf),
                    entry(4, &lists[0]),
                    entry(5, &lists[1]),
                ];
                if let Some(s) = &tile.scales {
                    entries.push(entry(2, s));
                }
                let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("score"),
                    layout: &self.score.get_bind_group_layout(0),
                    entries: &entries,
                });
                pass.set_bind_group(0, &group, &[]);
                pass.dispatch_workgroups(tile.chunks, count as u32, 1);
            }
            pass.set_pipeline(&self.reduce);
            let mut entries = u64::from(self.chunks) * k as u64;
            while entries > k as u64 {
                let groups = entries.div_ceil(CHUNK);
                let p = params([entries as u32, 0, 0, k as u32, 0, groups as u32, 0, 0]);
                let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("reduce"),
                    layout: &self.reduce.get_bind_group_layout(0),
                    entries: &[
                        entry(0, &p),
                        entry(4, &lists[current]),
                        entry(5, &lists[1 - current]),
                    ],
                });
                pass.set_bind_group(0, &group, &[]);
                pass.dispatch_workgroups(groups as u32, count as u32, 1);
                entries = groups * k as u64;
                current = 1 - current;
            }
        }
        let results = &lists[current];
        encoder.copy_buffer_to_buffer(results, 0, &staging, 0, results_size);
        self.queue.submit([encoder.finish()]);

        let (tx, rx) = futures_channel::oneshot::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        #[cfg(not(target_arch = "wasm32"))]
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Failed(e.to_string()))?;
        let mapped = rx
            .await
            .map_err(|_| GpuError::Failed("readback was dropped".into()))?;
        self.check()?;
        mapped.map_err(|e| GpuError::Failed(e.to_string()))?;
        let view = staging
            .get_mapped_range(..)
            .map_err(|e| GpuError::Failed(e.to_string()))?;
        let out = view
            .chunks_exact(k * 8)
            .map(|list| {
                list.chunks_exact(8)
                    .map(|e| Hit {
                        score: f32::from_bits(u32::from_le_bytes([e[0], e[1], e[2], e[3]])),
                        item: u32::from_le_bytes([e[4], e[5], e[6], e[7]]),
                    })
                    .take_while(|h| h.item != u32::MAX)
                    .collect()
            })
            .collect();
        Ok(out)
    }
}

impl Precision {
    /// Bytes per value on the device.
    fn bytes(self) -> u64 {
        match self {
            Precision::Int8 | Precision::Pq => 1,
            Precision::F16 => 2,
            Precision::F32 => 4,
        }
    }

    /// Float values as the device reads them: little-endian f16 (rounded to nearest) or f32.
    fn encode(self, values: &[f32]) -> Vec<u8> {
        match self {
            Precision::F16 => values
                .iter()
                .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
                .collect(),
            _ => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buffer.as_entire_binding(),
    }
}
