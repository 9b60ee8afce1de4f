//! 2-D convolution. x is (N, C, H, W), weight (OC, C, K, K), bias (OC), y (N, OC, OH, OW).
//!
//! Four ways to compute it, by shape:
//! - One input channel, stride 1 (the first layer on gray images): the direct kernel, since
//!   im2col would build a 9-row matrix.
//! - 3×3, stride 1, outputs 8 or more wide: the forward by Winograd's F(2×2, 3×3)
//!   (`kernels::winograd`), 16 multiply-adds per 2×2 outputs and input channel instead of 36;
//!   the backward as the wide-row kernel's, next.
//! - Stride 1 otherwise, when few columns are wasted: the wide-row kernels (`kernels::conv_wide`),
//!   an implicit GEMM that reads the padded input in place of a patch matrix, for the forward and
//!   the weight gradient; the input gradient is the same forward kernel over the padded `dY` with
//!   the weights transposed and flipped, where that padding wastes little (`same` padding), and
//!   `Wᵀ · dY` → col2im otherwise.
//! - Any stride: im2col → one GEMM `W (OC × CKK) · cols (CKK × S·P)` → copy out with the bias
//!   added; backward `dW += dY · colsᵀ`, `dcols = Wᵀ · dY` → col2im. A training forward keeps its
//!   patch matrices for the backward when they are small (`KEEP_PATCHES_BYTES`). Outputs only a
//!   few columns wide interleave the chunk's samples first (`cols (CKK × P·S)`), so the patch
//!   matrix is copied in runs of S floats rather than of an output row.

use super::{Layer, MaxPool2d, Mode, Param, PooledGradient};
use crate::engine::init::Init;
use crate::engine::kernels::conv_direct::{conv1_backward_weights, conv1_forward};
use crate::engine::kernels::conv_wide::{
    self, GRADIENT_CHANNELS, conv_wide, conv_wide_weight_gradient, pack_panels, padded_rows, transposed_flipped,
    wide_columns,
};
use crate::engine::kernels::elementwise::{add_bias, add_bias_cropped, add_bias_relu, relu_backward, sum};
use crate::engine::kernels::gemm::{Op, sgemm};
use crate::engine::kernels::im2col::{
    ConvGeometry, col2im, col2im_interleaved, col2im_rows, copy_run, deinterleave, im2col, im2col_interleaved,
    interleave,
};
use crate::engine::kernels::pool::maxpool_values;
use crate::engine::kernels::winograd::{self, TILE_POSITIONS, winograd_input_row, winograd_output_row};
use crate::engine::parallel::{SAMPLES_PER_TASK, for_each_task, map_tasks, sum_partials_into, with_scratch};

/// Aim for at least this many GEMM columns (samples × output pixels) per task.
const COLUMNS_PER_TASK: usize = 768;
/// But no more samples per task than this, so a batch of 64 still feeds two or more threads.
const MAX_SAMPLES_PER_TASK: usize = 32;
/// And no more than fit their patch matrix in this many bytes (at least one sample). `seed000`'s
/// 28×28 convolutions unfold 903 KB per sample: 8 samples per task (7 MB) streamed the patches
/// through memory between im2col and the GEMM's packing; 2 samples trained 1.28× faster
/// (batch 512, 2 threads, 3 alternating rounds). `seed002`'s 8 samples (1.1 MB) stay as they were.
const PATCH_BYTES_PER_TASK: usize = 2 << 20;
/// The same for an evaluation forward: `seed002` inference at batch 1000 ran 1.13–1.25× faster
/// with 2 samples per task (278 KB) than with 8 (3 alternating rounds), while training slowed
/// with them.
const PATCH_BYTES_PER_EVAL_TASK: usize = 320 << 10;
/// Convolutions whose output rows are narrower than this unfold their samples interleaved: the
/// patch matrix is then copied in runs of a task's samples (32) instead of output rows (3 floats
/// for `seed002`'s last convolution), and the GEMMs compute no wasted columns, where the
/// wide-row kernel computes 16 per 9 useful ones. `seed002` b64 trained 1.08× faster on one
/// thread (7 alternating rounds, 0.88–1.28) and 1.12× on two (0.97–1.42) than with the wide-row
/// kernel for that layer (`benches/ab.sh`).
const INTERLEAVE_BELOW_WIDTH: usize = 8;
/// Samples per task of a forward by Winograd's transforms, which run over runs of the task's
/// samples. 16 (a whole AVX-512 vector) trained `seed002` b64 1.07× faster than the wide-row
/// forward on one thread but 0.95× on two, with half the tasks; 8 gave 1.10× and 1.06×
/// (`benches/ab.sh`, 5 alternating rounds each).
const WINOGRAD_SAMPLES: usize = 8;
/// The weights as a forward's kernel takes them.
enum ForwardWeights {
    /// Packed panels for the wide-row kernel.
    Wide(Vec<f32>),
    /// Winograd's 16 transformed matrices.
    Winograd(Vec<f32>),
    /// The layer's own (im2col + GEMM, the direct kernel).
    AsTheyAre,
}

/// dL/d(output) as the backward receives it: whole, or as the gradient of the max-pool after
/// this layer, to be unpooled chunk by chunk.
enum OutputGradient<'a> {
    Whole(&'a Tensor),
    Pooled(&'a PooledGradient<'a>),
}

/// The wide-row kernels compute `wp / ow` times the useful columns, rounded up to whole 16-column
/// vectors: 1.19 for `seed002`'s second convolution, 1.07 and 1.14 for `seed000`'s. (At 1.78,
/// `seed002`'s last, they beat im2col + GEMM sample by sample, whose patch matrix was copied in
/// 3-float runs, but not im2col with interleaved samples: see `INTERLEAVE_BELOW_WIDTH`.)
const MAX_WIDE_WASTE: f64 = 2.0;
/// The input gradient on wide rows convolves `dY` padded by k - 1 - pad, in rows that share
/// their left and right borders; computed against useful columns that is 1.04 and 1.14 for
/// `seed000`'s `same` convolutions but 1.45 for `seed002`'s unpadded second one, where
/// `Wᵀ · dY` → col2im is faster: with the bound at 1.5 that layer's wide input gradient trained
/// 0.93× as fast (`THREADS=1 ROUNDS=7 benches/ab.sh`, seed002 b64; rounds 0.87–1.12).
const MAX_FLIPPED_WASTE: f64 = 1.25;
/// The input gradient by col2im multiplies `Wᵀ · dY` for this many bytes of patch gradients at
/// a time, so that col2im reads them from cache: one sample of `seed002`'s second convolution
/// (136 KiB). Against two (320 KiB), `seed002` b64 training ran 1.05× faster (7 alternating
/// rounds, 0.88–1.10); four (640 KiB) were no better than two (1.02×, 0.92–1.08, and more
/// profile samples in sgemm and col2im). The same bits either way: each of the GEMM's columns
/// is computed alike however many there are.
const DCOLS_BYTES: usize = 160 << 10;
/// A training forward keeps the batch's patch matrices for the backward up to this size (10 MB
/// for `seed002`'s second convolution at batch 64; `seed000` at batch 512 would need 460 MB and
/// unfolds again instead).
const KEEP_PATCHES_BYTES: usize = 32 << 20;
use crate::engine::rng::Rng;
use crate::engine::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// No padding: the output shrinks by K-1.
    Valid,
    /// (K-1)/2 on each side: stride 1 keeps the size (odd K).
    Same,
    Explicit(usize),
}

pub struct Conv2d {
    geometry: ConvGeometry,
    out_channels: usize,
    padding: Padding,
    weight: Param,
    bias: Param,
    /// The ReLU after this layer is applied here (see [`Layer::fuse_relu`]).
    relu: bool,
    /// ... and its mask on `dy` by the layer after (see [`Layer::skip_relu_mask`]).
    relu_masked_after: bool,
    /// The max-pool after this layer, (kernel, stride), which evaluation forwards apply here
    /// (see [`Layer::fuse_pool`]).
    pool: Option<(usize, usize)>,
    /// The last training forward's patch matrices, chunk after chunk, and its batch size.
    patches: Vec<f32>,
    patches_batch: Option<usize>,
}

impl Conv2d {
    /// `in_shape` is (C, H, W). Panics on impossible shapes; the spec parser checks them first.
    pub fn new(
        in_shape: &[usize],
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
        init: Init,
        rng: &mut Rng,
    ) -> Conv2d {
        let pad = match padding {
            Padding::Valid => 0,
            Padding::Same => (kernel - 1) / 2,
            Padding::Explicit(p) => p,
        };
        let geometry =
            ConvGeometry { channels: in_shape[0], height: in_shape[1], width: in_shape[2], kernel, stride, pad };
        let fan_in = geometry.patch_len();
        let fan_out = out_channels * kernel * kernel;
        let weight = init.sample(out_channels * fan_in, fan_in, fan_out, rng);
        Conv2d {
            geometry,
            out_channels,
            padding,
            weight: Param::new("weight", &[out_channels, geometry.channels, kernel, kernel], weight, true),
            bias: Param::new("bias", &[out_channels], vec![0.0; out_channels], false),
            relu: false,
            relu_masked_after: false,
            pool: None,
            patches: Vec::new(),
            patches_batch: None,
        }
    }

    pub fn geometry(&self) -> ConvGeometry {
        self.geometry
    }

    /// Multiply-adds per sample of the forward pass.
    pub fn macs(&self) -> usize {
        self.out_channels * self.geometry.patch_len() * self.geometry.out_pixels()
    }

    /// Samples per rayon task and per GEMM: a fixed function of the layer's shape, never of the
    /// thread count (determinism). Small outputs (3×3 in `seed002`'s last conv) get more
    /// samples so the GEMM is wide enough to run near peak; large ones get fewer, so that the
    /// task's patch matrix stays near the cache instead of streaming through memory.
    /// An evaluation forward (no backward to share the patches with) runs best with smaller
    /// tasks still (`PATCH_BYTES_PER_EVAL_TASK`).
    fn samples_per_task(&self, mode: Mode) -> usize {
        let budget = if mode == Mode::Eval { PATCH_BYTES_PER_EVAL_TASK } else { PATCH_BYTES_PER_TASK };
        let wide_enough = COLUMNS_PER_TASK.div_ceil(self.geometry.out_pixels()).max(SAMPLES_PER_TASK);
        let fits = (budget / (self.patches_len(1) * size_of::<f32>())).max(1);
        wide_enough.min(fits).min(MAX_SAMPLES_PER_TASK)
    }

    /// Samples per task of the forward: [`Self::samples_per_task`], or for Winograd's transforms
    /// (which keep no patches) `WINOGRAD_SAMPLES`.
    fn forward_samples_per_task(&self, mode: Mode) -> usize {
        if self.uses_winograd() { WINOGRAD_SAMPLES } else { self.samples_per_task(mode) }
    }

    /// Output channels of the wide weight gradient's transposed rows (padded for its tiles).
    fn gradient_channels(&self) -> usize {
        self.out_channels.next_multiple_of(GRADIENT_CHANNELS)
    }

    fn uses_direct_kernel(&self) -> bool {
        self.geometry.channels == 1 && self.geometry.stride == 1
    }

    /// Outputs narrower than `INTERLEAVE_BELOW_WIDTH` columns unfold their samples interleaved
    /// ([`Self::forward_chunk_interleaved`]).
    fn interleaves_samples(&self) -> bool {
        !self.uses_direct_kernel() && self.geometry.out_width() < INTERLEAVE_BELOW_WIDTH
    }

    /// The forward of a stride-1 3×3 convolution with several input channels and outputs at least
    /// `INTERLEAVE_BELOW_WIDTH` wide: Winograd's F(2×2, 3×3) ([`Self::forward_chunk_winograd`]).
    fn uses_winograd(&self) -> bool {
        let g = &self.geometry;
        g.kernel == 3 && g.stride == 1 && g.channels > 1 && g.pad <= 2 && !self.interleaves_samples()
    }

    /// Stride 1 with several input channels, a padding the input gradient can mirror (pad < k)
    /// and few wasted columns: the wide-row kernel.
    fn uses_wide_kernel(&self) -> bool {
        let g = &self.geometry;
        if self.interleaves_samples() {
            return false;
        }
        let computed = (g.out_height() * (g.width + 2 * g.pad)).next_multiple_of(16);
        let waste = computed as f64 / g.out_pixels() as f64;
        g.channels > 1 && g.stride == 1 && g.pad < g.kernel && waste <= MAX_WIDE_WASTE
    }

    /// Whether the input gradient takes the wide-row kernel too: it convolves `dY` padded by
    /// k - 1 - pad, which for a padding below (k - 1) / 2 multiplies many zeros (`seed002`'s
    /// unpadded second convolution would compute 176 wide columns per 121 useful multiply-adds'
    /// worth); `MAX_FLIPPED_WASTE` decides.
    fn uses_wide_input_gradient(&self) -> bool {
        let g = &self.geometry;
        let border = g.kernel - 1 - g.pad;
        let computed = (g.height * (g.out_width() + border)).next_multiple_of(16);
        self.uses_wide_kernel() && computed as f64 / g.out_pixels() as f64 <= MAX_FLIPPED_WASTE
    }

    fn out_len(&self) -> usize {
        self.out_channels * self.geometry.out_pixels()
    }

    /// The input plane with its zero border, for the direct kernel.
    fn padded_plane<R>(&self, plane: &[f32], f: impl FnOnce(&[f32], usize, usize) -> R) -> R {
        let g = &self.geometry;
        if g.pad == 0 {
            return f(plane, g.height, g.width);
        }
        let (hp, wp) = (g.height + 2 * g.pad, g.width + 2 * g.pad);
        with_scratch(hp * wp, |padded| {
            padded.fill(0.0);
            for (y, row) in plane.chunks_exact(g.width).enumerate() {
                let start = (y + g.pad) * wp + g.pad;
                padded[start..start + g.width].copy_from_slice(row);
            }
            f(padded, hp, wp)
        })
    }

    /// Patch-matrix floats of one chunk of `samples`.
    fn patches_len(&self, samples: usize) -> usize {
        self.geometry.patch_len() * self.geometry.out_pixels() * samples
    }

    /// `keep`: where to leave this chunk's patch matrix for the backward (else scratch memory).
    fn forward_chunk(&self, x: &[f32], y: &mut [f32], keep: Option<&mut [f32]>) {
        let g = &self.geometry;
        let samples = x.len() / g.in_len();
        if self.uses_direct_kernel() {
            for (x, y) in x.chunks_exact(g.in_len()).zip(y.chunks_exact_mut(self.out_len())) {
                self.padded_plane(x, |plane, h, w| {
                    conv1_forward(plane, h, w, &self.weight.value, &self.bias.value, g.kernel, self.relu, y)
                });
            }
            return;
        }
        if self.interleaves_samples() {
            return self.forward_chunk_interleaved(x, y, keep);
        }
        let (pixels, patch, oc) = (g.out_pixels(), g.patch_len(), self.out_channels);
        let ld = samples * pixels;
        let mut unfold_and_multiply = |cols: &mut [f32]| {
            for (i, x) in x.chunks_exact(g.in_len()).enumerate() {
                im2col(x, g, cols, ld, i * pixels);
            }
            with_scratch(oc * ld, |product| {
                sgemm(Op::N, Op::N, oc, ld, patch, 1.0, &self.weight.value, patch, cols, ld, 0.0, product, ld);
                for (i, y) in y.chunks_exact_mut(self.out_len()).enumerate() {
                    for (o, y) in y.chunks_exact_mut(pixels).enumerate() {
                        let start = o * ld + i * pixels;
                        let z = &product[start..start + pixels];
                        if self.relu {
                            add_bias_relu(z, self.bias.value[o], y);
                        } else {
                            add_bias(z, self.bias.value[o], y);
                        }
                    }
                }
            });
        };
        match keep {
            Some(cols) => unfold_and_multiply(cols),
            None => with_scratch(patch * ld, unfold_and_multiply),
        }
    }

    /// [`Self::forward_chunk`] for small outputs: the chunk's samples unfolded interleaved
    /// ([`im2col_interleaved`]), so that the patch matrix is copied in runs of a sample count
    /// rather than of an output row, and the product comes out with its columns interleaved too.
    fn forward_chunk_interleaved(&self, x: &[f32], y: &mut [f32], keep: Option<&mut [f32]>) {
        let g = &self.geometry;
        let samples = x.len() / g.in_len();
        let (patch, oc, pixels, ld) = (g.patch_len(), self.out_channels, g.out_pixels(), samples * g.out_pixels());
        let mut unfold_and_multiply = |cols: &mut [f32]| {
            self.unfold_interleaved(x, cols);
            with_scratch(oc * ld, |product| {
                sgemm(Op::N, Op::N, oc, ld, patch, 1.0, &self.weight.value, patch, cols, ld, 0.0, product, ld);
                with_scratch(oc * ld, |z| {
                    deinterleave(product, samples, z); // OC·P values per sample: the layout of y
                    for (row, (z, y)) in z.chunks_exact(pixels).zip(y.chunks_exact_mut(pixels)).enumerate() {
                        let bias = self.bias.value[row % oc];
                        if self.relu {
                            add_bias_relu(z, bias, y);
                        } else {
                            add_bias(z, bias, y);
                        }
                    }
                })
            });
        };
        match keep {
            Some(cols) => unfold_and_multiply(cols),
            None => with_scratch(patch * ld, unfold_and_multiply),
        }
    }

    /// The interleaved patch matrix of the chunk of samples `x`.
    fn unfold_interleaved(&self, x: &[f32], cols: &mut [f32]) {
        let samples = x.len() / self.geometry.in_len();
        with_scratch(x.len(), |lanes| {
            interleave(x, samples, lanes);
            im2col_interleaved(lanes, &self.geometry, samples, cols);
        })
    }

    /// The backward of [`Self::forward_chunk_interleaved`], given dY interleaved (`dy_matrix`,
    /// OC × P·S): `dW = dY · colsᵀ` and, when asked, dx = col2im(Wᵀ · dY), deinterleaved.
    fn backward_interleaved(
        &self,
        x: &[f32],
        dy_matrix: &[f32],
        dx: Option<&mut [f32]>,
        kept: Option<&[f32]>,
        dweight: &mut [f32],
    ) {
        let g = &self.geometry;
        let samples = x.len() / g.in_len();
        let (patch, oc, ld) = (g.patch_len(), self.out_channels, samples * g.out_pixels());
        let multiply = |cols: &[f32], dcols: &mut [f32]| {
            sgemm(Op::N, Op::T, oc, patch, ld, 1.0, dy_matrix, ld, cols, ld, 0.0, dweight, patch);
            let Some(dx) = dx else { return };
            sgemm(Op::T, Op::N, patch, ld, oc, 1.0, &self.weight.value, patch, dy_matrix, ld, 0.0, dcols, ld);
            with_scratch(dx.len(), |dx_lanes| {
                col2im_interleaved(dcols, g, samples, dx_lanes);
                deinterleave(dx_lanes, samples, dx);
            })
        };
        match kept {
            Some(cols) => with_scratch(patch * ld, |dcols| multiply(cols, dcols)),
            None => with_scratch(patch * ld, |cols| {
                self.unfold_interleaved(x, cols);
                with_scratch(patch * ld, |dcols| multiply(cols, dcols))
            }),
        }
    }

    /// [`Self::forward_chunk`] with the wide-row kernel, one sample at a time; `panels` are the
    /// packed weights. With `pool` (kernel, stride), `y` receives the max-pool of the output.
    fn forward_chunk_wide(&self, x: &[f32], y: &mut [f32], panels: &[f32], pool: Option<(usize, usize)>) {
        let g = &self.geometry;
        let (hp, wp) = (g.height + 2 * g.pad, g.width + 2 * g.pad);
        let oh = g.out_height();
        let input_len = conv_wide::input_len(g.channels, hp, wp, g.kernel);
        let y_len = match pool {
            Some(window) => self.pooled_len(window),
            None => self.out_len(),
        };
        with_scratch(input_len, |padded| {
            with_scratch(padded_rows(self.out_channels) * oh * wp, |wide| {
                for (i, y) in y.chunks_exact_mut(y_len).enumerate() {
                    let first = i * g.in_len();
                    // Unpadded planes are read where they are, the kernel's slack being the next
                    // sample's values (they reach only dropped columns); the last sample of the
                    // chunk, with nothing after it, is copied.
                    let input = if g.pad == 0 && first + input_len <= x.len() {
                        &x[first..first + input_len]
                    } else {
                        let planes = x[first..first + g.in_len()].chunks_exact(g.height * g.width);
                        pad_planes(planes, g.width, g.pad, hp, wp, padded);
                        &*padded
                    };
                    conv_wide(input, g.channels, hp, wp, g.kernel, panels, wide);
                    if let Some(window) = pool {
                        self.pool_wide_planes(wide, wp, window, y);
                        continue;
                    }
                    // Drop each wide row's last k - 1 columns, adding the bias (and the ReLU).
                    add_bias_cropped(wide, wp, oh, &self.bias.value, self.relu, y);
                }
            })
        })
    }

    /// [`Self::forward_chunk`] by Winograd's F(2×2, 3×3) (`kernels::winograd`), `transformed` being
    /// the weights' 16 transformed matrices: the chunk's samples interleaved and zero-padded to
    /// whole tiles, then for each row of tiles the input transform, one GEMM per tile position
    /// on the wide-row kernel and the output transform (adding the bias and the ReLU), and the
    /// output deinterleaved into `y`.
    fn forward_chunk_winograd(&self, x: &[f32], y: &mut [f32], transformed: &[f32]) {
        let g = &self.geometry;
        let (samples, oc) = (x.len() / g.in_len(), self.out_channels);
        let (oh, ow) = (g.out_height(), g.out_width());
        let (hq, wq) = (winograd::padded_side(oh), winograd::padded_side(ow));
        let columns = winograd::tiles(ow) * samples;
        let v_stride = conv_wide::input_len(g.channels, 1, columns, 1);
        let m_stride = padded_rows(oc) * columns;
        let panels_len = padded_rows(oc) * g.channels;
        with_scratch(g.channels * hq * wq * samples, |padded| {
            with_scratch(x.len(), |lanes| {
                interleave(x, samples, lanes);
                // Each padded plane: `pad` zero rows, the input rows with `pad` zero pixels before
                // and the rest of the tile width after, zero rows to the tiles' height. Only the
                // border is zeroed; the rows are copied over the rest.
                let (row, padded_row) = (g.width * samples, wq * samples);
                let planes = padded.chunks_exact_mut(hq * padded_row).zip(lanes.chunks_exact(g.height * row));
                for (padded, plane) in planes {
                    let (top, rest) = padded.split_at_mut(g.pad * padded_row);
                    top.fill(0.0);
                    let (middle, bottom) = rest.split_at_mut(g.height * padded_row);
                    bottom.fill(0.0);
                    for (padded, src) in middle.chunks_exact_mut(padded_row).zip(plane.chunks_exact(row)) {
                        let left = g.pad * samples;
                        padded[..left].fill(0.0);
                        padded[left..left + row].copy_from_slice(src);
                        padded[left + row..].fill(0.0);
                    }
                }
            });
            with_scratch(TILE_POSITIONS * v_stride, |v| {
                with_scratch(TILE_POSITIONS * m_stride, |m| {
                    with_scratch(y.len(), |y_lanes| {
                        for tile_row in 0..winograd::tiles(oh) {
                            winograd_input_row(padded, g.channels, hq, wq, samples, tile_row, v, v_stride);
                            let positions = v.chunks_exact(v_stride).zip(m.chunks_exact_mut(m_stride));
                            for ((v, m), panels) in positions.zip(transformed.chunks_exact(panels_len)) {
                                conv_wide(v, g.channels, 1, columns, 1, panels, m);
                            }
                            let bias = &self.bias.value;
                            winograd_output_row(m, m_stride, bias, self.relu, tile_row, oh, ow, samples, y_lanes);
                        }
                        deinterleave(y_lanes, samples, y);
                    })
                })
            })
        })
    }

    /// Output floats of one sample after the fused max-pool `(kernel, stride)`.
    fn pooled_len(&self, (kernel, stride): (usize, usize)) -> usize {
        let g = &self.geometry;
        self.out_channels * ((g.out_height() - kernel) / stride + 1) * ((g.out_width() - kernel) / stride + 1)
    }

    /// One sample's max-pooled output from its wide rows (`wp` columns, the last k - 1 of each
    /// dropped): the raw sums are pooled first, then the bias (and ReLU) added to the pooled
    /// values. Adding a constant and clamping at 0 are monotone in floating point, so the
    /// maximum of the biased values is the biased maximum: the same bits as pooling the
    /// layer's output, on a quarter of the values. The pooled columns never reach the dropped
    /// ones: the last of them ends at (ow - kernel) / stride · stride + kernel ≤ ow.
    fn pool_wide_planes(&self, wide: &[f32], wp: usize, (kernel, stride): (usize, usize), y: &mut [f32]) {
        let g = &self.geometry;
        let oh = g.out_height();
        let (ph, pw) = ((oh - kernel) / stride + 1, (g.out_width() - kernel) / stride + 1);
        let wide_pw = (wp - kernel) / stride + 1;
        with_scratch(ph * wide_pw, |pooled| {
            let planes = wide.chunks_exact(oh * wp).zip(y.chunks_exact_mut(ph * pw));
            for ((wide_plane, y_plane), &bias) in planes.zip(&self.bias.value) {
                maxpool_values(wide_plane, oh, wp, kernel, stride, pooled);
                add_bias_cropped(pooled, wide_pw, ph, &[bias], self.relu, y_plane);
            }
        })
    }

    /// An evaluation forward with the fused max-pool `window`: each task computes its samples'
    /// convolution into scratch memory and pools it from there (the wide-row kernel pools its
    /// wide rows directly), so the unpooled activation never goes out to memory.
    fn forward_pooled(&self, x: &Tensor, window: (usize, usize)) -> Tensor {
        let g = &self.geometry;
        let (in_len, out_len, pooled_len) = (g.in_len(), self.out_len(), self.pooled_len(window));
        let (oh, ow, (kernel, stride)) = (g.out_height(), g.out_width(), window);
        let (ph, pw) = ((oh - kernel) / stride + 1, (ow - kernel) / stride + 1);
        let mut y = Tensor::for_overwrite(&[x.batch(), self.out_channels, ph, pw]);
        // The direct kernel goes one sample at a time anyway; im2col keeps its chunk for the GEMM.
        let task = if self.uses_direct_kernel() { 1 } else { self.forward_samples_per_task(Mode::Eval) };
        let weights = self.forward_weights();
        for_each_task(y.data.chunks_mut(task * pooled_len).zip(x.data.chunks(task * in_len)), |(y, x)| {
            if let ForwardWeights::Wide(panels) = &weights {
                return self.forward_chunk_wide(x, y, panels, Some(window));
            }
            with_scratch(x.len() / in_len * out_len, |full| {
                match &weights {
                    ForwardWeights::Winograd(transformed) => self.forward_chunk_winograd(x, full, transformed),
                    _ => self.forward_chunk(x, full, None),
                }
                for (full, y) in full.chunks_exact(oh * ow).zip(y.chunks_exact_mut(ph * pw)) {
                    maxpool_values(full, oh, ow, kernel, stride, y);
                }
            })
        });
        y
    }

    /// Writes this chunk's dx with the wide-row kernel: the convolution of `dY` (rows of
    /// `dy_matrix`, leading dimension `ld`), padded by k - 1 - pad, with the transposed, flipped
    /// weights packed in `panels`.
    fn input_gradient_wide(&self, dy_matrix: &[f32], ld: usize, panels: &[f32], dx: &mut [f32]) {
        let g = &self.geometry;
        let (pixels, oc, k) = (g.out_pixels(), self.out_channels, g.kernel);
        let border = k - 1 - g.pad;
        // Rows of `wq = OW + border`: each row's right border is the next row's left one, since
        // the kernel reads flat across rows.
        let (ow, hq, wq) = (g.out_width(), g.out_height() + 2 * border, g.out_width() + border);
        with_scratch(conv_wide::input_len(oc, hq, wq, k), |padded| {
            with_scratch(padded_rows(g.channels) * g.height * wq, |wide| {
                for (i, dx) in dx.chunks_exact_mut(g.in_len()).enumerate() {
                    let planes = (0..oc).map(|o| &dy_matrix[o * ld + i * pixels..o * ld + (i + 1) * pixels]);
                    pad_planes(planes, ow, border, hq, wq, padded);
                    conv_wide(padded, oc, hq, wq, k, panels, wide);
                    let planes = wide.chunks_exact(g.height * wq).zip(dx.chunks_exact_mut(g.height * g.width));
                    for (wide_plane, dx_plane) in planes {
                        for (src, dst) in wide_plane.chunks_exact(wq).zip(dx_plane.chunks_exact_mut(g.width)) {
                            copy_run(dst, &src[..g.width]);
                        }
                    }
                }
            })
        })
    }

    /// Adds this chunk's weight gradient, transposed (`dweight_t[tap][o]`, rows of
    /// `channels_out` padded to `GRADIENT_CHANNELS`), into `dweight_t` with the wide-row kernel:
    /// the padded inputs against `dY` (rows of `dy_matrix`) laid out channels-last in wide rows,
    /// all samples at once. The chunks' transposed sums are turned around once, in `backward`.
    fn weight_gradient_wide(&self, x: &[f32], dy_matrix: &[f32], ld: usize, dweight_t: &mut [f32]) {
        let g = &self.geometry;
        let (hp, wp) = (g.height + 2 * g.pad, g.width + 2 * g.pad);
        let (oh, ow, pixels) = (g.out_height(), g.out_width(), g.out_pixels());
        let (samples, columns) = (x.len() / g.in_len(), oh * wp);
        let channels_out = self.gradient_channels();
        let stride = conv_wide::input_len(g.channels, hp, wp, g.kernel);
        with_scratch(samples * stride, |padded| {
            with_scratch(samples * columns * channels_out, |dy_t| {
                for (x, padded) in x.chunks_exact(g.in_len()).zip(padded.chunks_exact_mut(stride)) {
                    pad_planes(x.chunks_exact(g.height * g.width), g.width, g.pad, hp, wp, padded);
                }
                dy_t.fill(0.0); // the dropped columns and the padding channels
                for (i, dy_t) in dy_t.chunks_exact_mut(columns * channels_out).enumerate() {
                    let dy = &dy_matrix[i * pixels..];
                    wide_columns(dy, ld, self.out_channels, pixels, ow, wp, dy_t, channels_out);
                }
                conv_wide_weight_gradient(padded, samples, g.channels, hp, wp, g.kernel, dy_t, channels_out, dweight_t);
            })
        })
    }

    /// The weights as the forward's kernel takes them, once per call (Winograd before the
    /// wide-row kernel, which then computes only the backward).
    fn forward_weights(&self) -> ForwardWeights {
        let (oc, g) = (self.out_channels, &self.geometry);
        if self.uses_winograd() {
            ForwardWeights::Winograd(winograd::transform_weights(&self.weight.value, oc, g.channels))
        } else if self.uses_wide_kernel() {
            ForwardWeights::Wide(pack_panels(&self.weight.value, oc, g.patch_len()))
        } else {
            ForwardWeights::AsTheyAre
        }
    }

    /// The forward, on the im2col, direct, wide or Winograd kernel; with `pooling` (training
    /// only), each task computes its samples' output into scratch memory and pools it into the
    /// returned tensor, recording the winners.
    fn forward_unpooled(&mut self, x: &Tensor, mode: Mode, pooling: Option<(&MaxPool2d, &mut [u32])>) -> Tensor {
        let (in_len, out_len) = (self.geometry.in_len(), self.out_len());
        let mut shape = vec![x.batch()];
        let (pool, winners) = pooling.unzip();
        shape.extend(pool.map_or_else(|| self.out_shape(), |pool| pool.out_shape()));
        let y_len = pool.map_or(out_len, |pool| pool.out_len());
        let mut y = Tensor::for_overwrite(&shape);
        let task = self.forward_samples_per_task(mode);
        let weights = self.forward_weights();
        let keep = mode == Mode::Train
            && !self.uses_direct_kernel()
            && matches!(weights, ForwardWeights::AsTheyAre)
            && self.patches_len(x.batch()) * size_of::<f32>() <= KEEP_PATCHES_BYTES;
        let chunks = x.batch().div_ceil(task);
        let mut patches = std::mem::take(&mut self.patches);
        let keep_chunks: Vec<Option<&mut [f32]>> = if keep {
            patches.resize(self.patches_len(x.batch()), 0.0);
            patches.chunks_mut(self.patches_len(task)).map(Some).collect()
        } else {
            (0..chunks).map(|_| None).collect()
        };
        let winner_chunks: Vec<Option<&mut [u32]>> = match winners {
            Some(winners) => winners.chunks_mut(task * y_len).map(Some).collect(),
            None => (0..chunks).map(|_| None).collect(),
        };
        let this = &*self;
        let forward = |x: &[f32], y: &mut [f32], keep| match &weights {
            ForwardWeights::Wide(panels) => this.forward_chunk_wide(x, y, panels, None),
            ForwardWeights::Winograd(transformed) => this.forward_chunk_winograd(x, y, transformed),
            ForwardWeights::AsTheyAre => this.forward_chunk(x, y, keep),
        };
        let chunks =
            y.data.chunks_mut(task * y_len).zip(x.data.chunks(task * in_len)).zip(keep_chunks).zip(winner_chunks);
        for_each_task(chunks, |(((y, x), keep), winners)| match (pool, winners) {
            (Some(pool), Some(winners)) => with_scratch(x.len() / in_len * out_len, |full| {
                forward(x, full, keep);
                pool.pool_samples(full, y, winners);
            }),
            _ => forward(x, y, keep),
        });
        self.patches = patches;
        self.patches_batch = keep.then_some(x.batch());
        y
    }

    /// The backward of [`Layer::backward`], with `dy` given whole or as a max-pool's (unpooled by
    /// each task for its own samples).
    fn backward_from(&mut self, x: &Tensor, y: &Tensor, dy: OutputGradient<'_>, want_dx: bool) -> Option<Tensor> {
        let (in_len, out_len) = (self.geometry.in_len(), self.out_len());
        let task = self.samples_per_task(Mode::Train);
        let chunks = x.batch().div_ceil(task);
        // Each task zeroes its own part of dx before adding into it: in parallel, in cache.
        let mut dx = want_dx.then(|| Tensor::for_overwrite(&x.shape));
        let dx_chunks: Vec<Option<&mut [f32]>> = match dx.as_mut() {
            Some(dx) => dx.data.chunks_mut(task * in_len).map(Some).collect(),
            None => (0..chunks).map(|_| None).collect(),
        };
        // The kept patches are used only by the backward of the forward that made them (as the
        // model calls them); a batch of another size cannot be that.
        let kept_chunks: Vec<Option<&[f32]>> = match self.patches_batch {
            Some(batch) if batch == x.batch() => self.patches.chunks(self.patches_len(task)).map(Some).collect(),
            _ => (0..chunks).map(|_| None).collect(),
        };
        let g = &self.geometry;
        let flipped_panels = (want_dx && self.uses_wide_input_gradient()).then(|| {
            let flipped = transposed_flipped(&self.weight.value, self.out_channels, g.channels, g.kernel);
            pack_panels(&flipped, g.channels, self.out_channels * g.kernel * g.kernel)
        });
        // After a forward through the pool the unpooled output was not kept, and is not needed.
        let y_chunks: Vec<&[f32]> = match y.is_empty() {
            true => vec![&[]; chunks],
            false => y.data.chunks(task * out_len).collect(),
        };
        let this = &*self;
        let chunks = dx_chunks.into_iter().zip(x.data.chunks(task * in_len)).zip(y_chunks).zip(kept_chunks).enumerate();
        let partials: Vec<(Vec<f32>, Vec<f32>)> = map_tasks(chunks, |(chunk, (((dx, x), y), kept))| {
            let (first, samples) = (chunk * task, x.len() / in_len);
            let backward = |dy: &[f32]| this.backward_chunk(x, y, dy, dx, kept, flipped_panels.as_deref());
            match dy {
                OutputGradient::Whole(dy) => backward(&dy.data[first * out_len..(first + samples) * out_len]),
                OutputGradient::Pooled(pooled) => with_scratch(samples * out_len, |unpooled| {
                    let pooled_len = pooled.pool.out_len();
                    let part = first * pooled_len..(first + samples) * pooled_len;
                    pooled.pool.unpool(first, &pooled.y.data[part.clone()], &pooled.dy.data[part], unpooled);
                    backward(unpooled)
                }),
            }
        });
        let (dweights, dbiases): (Vec<_>, Vec<_>) = partials.into_iter().unzip();
        if self.uses_wide_kernel() {
            // Summed transposed, then turned around once rather than per chunk (`seed000` has
            // 256 chunks of 2 samples a layer, each a strided pass over 37k values): the same
            // `seed000` steps took 12.06 s of CPU time instead of 12.46 s.
            let (patch, channels_out) = (g.patch_len(), self.gradient_channels());
            let mut total_t = vec![0.0; patch * channels_out];
            sum_partials_into(&mut total_t, &dweights);
            // In blocks of 16 output channels: a tap's 16 sums are one cache line of `total_t`,
            // and the block's 16 gradient rows stay in cache while the taps go by.
            let rows_per_block = 16;
            for_each_task(self.weight.grad.chunks_mut(rows_per_block * patch).enumerate(), |(block, dweight)| {
                let first = block * rows_per_block;
                for t in 0..patch {
                    let sums = &total_t[t * channels_out + first..];
                    for (dweight, &sum) in dweight.chunks_exact_mut(patch).zip(sums) {
                        dweight[t] += sum;
                    }
                }
            });
        } else {
            sum_partials_into(&mut self.weight.grad, &dweights);
        }
        sum_partials_into(&mut self.bias.grad, &dbiases);
        dx
    }

    /// Returns this chunk's (dW, db) and writes its dx, when asked, into `dx`. With a fused ReLU,
    /// `dy` is the gradient of the ReLU's output and is masked by `y > 0` on the way in.
    /// `kept`: this chunk's patch matrix from the forward, if it was kept. `flipped_panels`: the
    /// input-gradient weights for the wide-row kernel, when it is used.
    fn backward_chunk(
        &self,
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        kept: Option<&[f32]>,
        flipped_panels: Option<&[f32]>,
    ) -> (Vec<f32>, Vec<f32>) {
        let g = &self.geometry;
        let (pixels, patch, oc) = (g.out_pixels(), g.patch_len(), self.out_channels);
        // `y` is empty after a forward through the pool, which then masks dy itself.
        let mask_relu = self.relu && !self.relu_masked_after;
        assert!(!mask_relu || y.len() == dy.len(), "the ReLU mask needs the layer's output");
        // Transposed (and its rows padded) for the wide-row kernel: see `weight_gradient_wide`.
        let mut dweight =
            vec![0.0; if self.uses_wide_kernel() { patch * self.gradient_channels() } else { oc * patch }];
        let mut dbias = vec![0.0; oc];
        if self.uses_direct_kernel() && dx.is_none() {
            for (i, (x, dy)) in x.chunks_exact(g.in_len()).zip(dy.chunks_exact(self.out_len())).enumerate() {
                self.padded_plane(x, |plane, h, w| {
                    if mask_relu {
                        with_scratch(dy.len(), |masked| {
                            relu_backward(&y[i * dy.len()..(i + 1) * dy.len()], dy, masked);
                            conv1_backward_weights(plane, h, w, masked, g.kernel, &mut dweight, &mut dbias)
                        })
                    } else {
                        conv1_backward_weights(plane, h, w, dy, g.kernel, &mut dweight, &mut dbias)
                    }
                });
            }
            return (dweight, dbias);
        }
        let samples = x.len() / g.in_len();
        let ld = samples * pixels;
        with_scratch(oc * ld, |dy_matrix| {
            if self.interleaves_samples() {
                // dY as an OC × (P·S) matrix, its columns in the order of the patch matrix's.
                if mask_relu {
                    with_scratch(dy.len(), |masked| {
                        relu_backward(y, dy, masked);
                        interleave(masked, samples, dy_matrix);
                    });
                } else {
                    interleave(dy, samples, dy_matrix);
                }
            } else {
                // Gather dY into one OC × (S·P) matrix so the weight gradient is a single GEMM.
                for (i, dy) in dy.chunks_exact(self.out_len()).enumerate() {
                    for (o, dy) in dy.chunks_exact(pixels).enumerate() {
                        let row = &mut dy_matrix[o * ld + i * pixels..o * ld + (i + 1) * pixels];
                        if mask_relu {
                            relu_backward(&y[(i * oc + o) * pixels..(i * oc + o + 1) * pixels], dy, row);
                        } else {
                            row.copy_from_slice(dy);
                        }
                    }
                }
            }
            for (o, db) in dbias.iter_mut().enumerate() {
                *db = sum(&dy_matrix[o * ld..(o + 1) * ld]);
            }
            if self.interleaves_samples() {
                return self.backward_interleaved(x, dy_matrix, dx, kept, &mut dweight);
            }
            let dx = match (dx, flipped_panels) {
                (Some(dx), Some(panels)) => {
                    self.input_gradient_wide(dy_matrix, ld, panels, dx);
                    None
                }
                (dx, _) => dx,
            };
            // dx = col2im(Wᵀ · dY), into `dcols` as scratch.
            // A few samples at a time, so that `dcols` stays in cache from the GEMM to col2im.
            let group = (DCOLS_BYTES / (patch * pixels * size_of::<f32>())).max(1);
            let input_gradient = |dcols: &mut [f32], dx: &mut [f32]| {
                for (j, dx) in dx.chunks_mut(group * g.in_len()).enumerate() {
                    let columns = dx.len() / g.in_len() * pixels;
                    let dy_group = &dy_matrix[j * group * pixels..];
                    let w = &self.weight.value;
                    sgemm(Op::T, Op::N, patch, columns, oc, 1.0, w, patch, dy_group, ld, 0.0, dcols, columns);
                    for (i, dx) in dx.chunks_exact_mut(g.in_len()).enumerate() {
                        if g.stride == 1 {
                            col2im_rows(dcols, columns, i * pixels, *g, dx);
                        } else {
                            dx.fill(0.0);
                            col2im(dcols, columns, i * pixels, g, dx);
                        }
                    }
                }
            };
            if self.uses_wide_kernel() {
                self.weight_gradient_wide(x, dy_matrix, ld, &mut dweight);
                if let Some(dx) = dx {
                    with_scratch(patch * ld, |dcols| input_gradient(dcols, dx));
                }
                return;
            }
            match kept {
                Some(cols) => {
                    sgemm(Op::N, Op::T, oc, patch, ld, 1.0, dy_matrix, ld, cols, ld, 0.0, &mut dweight, patch);
                    if let Some(dx) = dx {
                        with_scratch(patch * ld, |dcols| input_gradient(dcols, dx));
                    }
                }
                None => with_scratch(patch * ld, |cols| {
                    for (i, x) in x.chunks_exact(g.in_len()).enumerate() {
                        im2col(x, g, cols, ld, i * pixels);
                    }
                    sgemm(Op::N, Op::T, oc, patch, ld, 1.0, dy_matrix, ld, cols, ld, 0.0, &mut dweight, patch);
                    if let Some(dx) = dx {
                        input_gradient(cols, dx); // the patches are no longer needed: reuse the buffer
                    }
                }),
            }
        });
        (dweight, dbias)
    }
}

/// Writes `planes` (rows `width` long) into `out` as planes of `hp × wp` with a zero border of
/// `pad`, and zeroes the rest of `out` (the wide-row kernel's slack).
fn pad_planes<'a>(
    planes: impl Iterator<Item = &'a [f32]>,
    width: usize,
    pad: usize,
    hp: usize,
    wp: usize,
    out: &mut [f32],
) {
    let mut written = 0;
    for (plane, padded) in planes.zip(out.chunks_exact_mut(hp * wp)) {
        // Zero only the border: the top rows, each row's edges, the bottom rows.
        padded[..pad * wp + pad].fill(0.0);
        for (y, row) in plane.chunks_exact(width).enumerate() {
            let start = (y + pad) * wp + pad;
            copy_run(&mut padded[start..start + width], row);
            let next = if y + 1 < plane.len() / width { start + wp } else { hp * wp };
            padded[start + width..next].fill(0.0);
        }
        written += hp * wp;
    }
    out[written..].fill(0.0);
}

impl Layer for Conv2d {
    fn kind(&self) -> &'static str {
        "Conv2D"
    }

    fn spec(&self) -> String {
        let g = &self.geometry;
        let mut token = format!("conv{}k{}", self.out_channels, g.kernel);
        if g.stride != 1 {
            token += &format!("s{}", g.stride);
        }
        match self.padding {
            Padding::Valid => {}
            Padding::Same => token += "same",
            Padding::Explicit(p) => token += &format!("p{p}"),
        }
        token
    }

    fn out_shape(&self) -> Vec<usize> {
        vec![self.out_channels, self.geometry.out_height(), self.geometry.out_width()]
    }

    fn forward(&mut self, x: &Tensor, mode: Mode) -> Tensor {
        assert_eq!(x.sample_len(), self.geometry.in_len(), "conv input shape {:?}", x.shape);
        if let (Mode::Eval, Some(window)) = (mode, self.pool) {
            return self.forward_pooled(x, window);
        }
        self.forward_unpooled(x, mode, None)
    }

    /// Applies the max-pool after it in training too, each task pooling its samples' output from
    /// scratch memory, so the unpooled activation (5.5 MB for `seed002`'s first convolution at
    /// batch 64) is neither written out nor read back. Not when the backward would need that
    /// activation: a fused ReLU whose mask the pool does not apply.
    fn forward_through_pool(&mut self, x: &Tensor, pool: &mut MaxPool2d) -> Option<Tensor> {
        if self.relu && !self.relu_masked_after {
            return None;
        }
        assert_eq!(pool.in_len(), self.out_len(), "the pool's input is this layer's output");
        Some(
            pool.record_winners(x.batch(), |pool, winners| {
                self.forward_unpooled(x, Mode::Train, Some((pool, winners)))
            }),
        )
    }

    fn backward(&mut self, x: &Tensor, y: &Tensor, dy: &Tensor, want_dx: bool) -> Option<Tensor> {
        self.backward_from(x, y, OutputGradient::Whole(dy), want_dx)
    }

    /// Each task unpools its own samples' `dy` into scratch memory, where its weight gradient then
    /// reads it from cache: `seed002`'s first convolution's `dy` is 5.5 MB at batch 64.
    fn backward_through_pool(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        pooled: &PooledGradient<'_>,
        want_dx: bool,
    ) -> Option<Tensor> {
        assert_eq!(pooled.pool.in_len(), self.out_len(), "the pool's input is this layer's output");
        self.backward_from(x, y, OutputGradient::Pooled(pooled), want_dx)
    }

    fn forward_macs(&self) -> usize {
        self.macs()
    }

    fn fuse_relu(&mut self) -> bool {
        self.relu = true;
        true
    }

    fn skip_relu_mask(&mut self) {
        self.relu_masked_after = true;
    }

    fn fuse_pool(&mut self, window: (usize, usize)) -> bool {
        self.pool = Some(window);
        true
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.weight, &self.bias]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.weight, &mut self.bias]
    }
}
