// Sparse coding of 8x8 bars (C++17): the main demo's model (examples/c/bars.c) with
// the C++ wrapper. Every neuron is an ngc-cell; this program does the synapses only.
//
//   x  stateless RateCell: clamps the images      e  GaussianErrorCell: dmu = x - mu
//   z  RateCell, 16 latents: euler, tau_m 5, Cauchy prior, relu, soft threshold
//   mu = W z.zF into e.mu;  z.j = W^T e.dmu;  after settling: W += eta dmu zF^T
//
// The cells share std::vectors (zero copy): x's zF is e's target. It prints the
// energy 0.5|x - W z|^2 per image each epoch, then the 16 causes it found as text.
//
//   c++ -std=c++17 -O2 -I include examples/cpp/pc_demo.cpp -L target/release -lngc_cells
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "ngc_cells.hpp"

namespace {
constexpr std::size_t side = 8, npix = side * side, nlat = 16, batch = 32;
constexpr int batches = 20, steps = 40;
using Vec = std::vector<float>;

// out(b, i) = sum_k A(i, k) in(b, k) with A (rows x cols) row-major, or A^T when transposed.
void matmul(const Vec &A, std::size_t rows, std::size_t cols, bool transposed, const Vec &in, Vec &out) {
    const std::size_t n_in = transposed ? rows : cols, n_out = transposed ? cols : rows;
    for (std::size_t b = 0; b < batch; b++)
        for (std::size_t i = 0; i < n_out; i++) {
            float s = 0.0f;
            for (std::size_t k = 0; k < n_in; k++)
                s += (transposed ? A[k * cols + i] : A[i * cols + k]) * in[b * n_in + k];
            out[b * n_out + i] = s;
        }
}

void normalise_columns(Vec &W) {
    for (std::size_t k = 0; k < nlat; k++) {
        float n = 0.0f;
        for (std::size_t j = 0; j < npix; j++) n += W[j * nlat + k] * W[j * nlat + k];
        for (std::size_t j = 0; j < npix; j++) W[j * nlat + k] /= std::sqrt(n);
    }
}

// Each of the 8 horizontal and 8 vertical bars lit with probability 1/8.
void make_bars(std::mt19937 &rng, float *img) {
    std::fill(img, img + npix, 0.0f);
    for (std::size_t k = 0; k < 2 * side; k++)
        if (rng() % side == 0)
            for (std::size_t i = 0; i < side; i++) img[k < side ? k * side + i : i * side + k - side] = 1.0f;
}

}  // namespace

int main(int argc, char **argv) try {
    const int epochs = argc > 1 ? std::atoi(argv[1]) : 20;
    const float eta = 0.2f;
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    Vec W(npix * nlat), image(batch * npix), x(batch * npix), mu(batch * npix), dmu(batch * npix),
        j(batch * nlat), zf(batch * nlat);
    for (float &w : W) w = u(rng);
    normalise_columns(W);

    // RateCell: name, n_units, batch, tau_m, prior, leak, act_fx, output_scale, threshold, lambda
    ngc::Cell xc = ngc::Cell::rate("x", npix, batch, /*tau_m=*/0.0);  // tau_m 0: stateless
    ngc::Cell zc = ngc::Cell::rate("z", nlat, batch, 5.0, "cauchy", 0.1, "relu", 1.0, "soft_threshold", 0.05);
    ngc::Cell ec = ngc::Cell::gaussian_error("e", npix, batch, /*sigma=*/1.0);
    xc.bind("j", image);
    xc.bind("zF", x);
    ec.bind("target", x);  // one buffer: x's output is e's input
    ec.bind("mu", mu);
    ec.bind("dmu", dmu);
    zc.bind("j", j);
    zc.bind("zF", zf);

    std::printf("epoch  energy 0.5|x - W z|^2 per image\n");
    for (int epoch = 1; epoch <= epochs; epoch++) {
        double energy = 0.0;
        for (int n = 0; n < batches; n++) {
            for (std::size_t b = 0; b < batch; b++) make_bars(rng, &image[b * npix]);
            xc.advance();
            zc.reset();
            for (int t = 0; t <= steps; t++) {
                matmul(W, npix, nlat, false, zf, mu);
                ec.advance(t);
                if (t == steps) break;
                matmul(W, npix, nlat, true, dmu, j);
                zc.advance(t, 1.0);
            }
            energy -= ec.loss() / batch;
            for (std::size_t p = 0; p < npix; p++)
                for (std::size_t k = 0; k < nlat; k++) {
                    float g = 0.0f;
                    for (std::size_t b = 0; b < batch; b++) g += dmu[b * npix + p] * zf[b * nlat + k];
                    W[p * nlat + k] += eta * g / batch;
                }
            normalise_columns(W);
        }
        std::printf("%5d  %8.4f\n", epoch, energy / batches);
    }
    for (std::size_t r = 0; r < 4 * side; r++) {  // the causes, 4x4 tiles: '#' above half a bar's weight
        for (std::size_t c = 0; c < 4 * side; c++) {
            const std::size_t k = r / side * 4 + c / side, p = r % side * side + c % side;
            std::printf("%s%c", c > 0 && c % side == 0 ? " " : "", W[p * nlat + k] > 0.5f / std::sqrt(8.0f) ? '#' : '.');
        }
        std::printf(r % side == side - 1 ? "\n\n" : "\n");
    }
    return 0;
} catch (const ngc::Error &err) {
    std::fprintf(stderr, "error: %s\n", err.what());
    return 1;
}
