/*
 * Main demo: a predictive-coding model of 8x8 "bars" images that learns with a
 * BernoulliErrorCell (logit mode) as its output layer.
 *
 * Data (made here): each image lights every one of its 8 horizontal and 8
 * vertical bars with probability 1/8, so images are superpositions of bars.
 * Model: 64 visible pixels x ~ Bernoulli(sigmoid(W z + b)), 16 non-negative
 * latent causes z. For each batch the latents are inferred by a few steps of
 * error-driven dynamics (z += beta * (W^T e - lambda)), where the error
 * e = d ln p(x) / d logits comes from the cell's `dp` compartment; then W and b
 * take one Hebbian step lr * e z^T. The cell's loss `L` is the log-likelihood of
 * the batch, which rises epoch by epoch.
 *
 * The cell's compartments are bound to this program's arrays (zero copy): the
 * program writes logits into `p` and images into `target`, and reads `dp`/`L`.
 *
 * Writes bars_weights.pgm (the 16 learned causes, each an 8x8 tile) and
 * bars_recon.pgm (data above, reconstructions below).
 *
 *   usage: bars [epochs] [output-dir]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngc_cells.h"

#define SIDE 8
#define NPIX (SIDE * SIDE)
#define NLAT 16
#define BATCH 64
#define BATCHES_PER_EPOCH 40
#define INFER_STEPS 30

#define CHECK(call)                                                                  \
    do {                                                                             \
        NgcStatus st_ = (call);                                                      \
        if (st_ != NGC_OK) {                                                         \
            char msg_[512];                                                          \
            ngc_last_error_message(msg_, sizeof msg_);                               \
            fprintf(stderr, "%s failed: %s: %s\n", #call, ngc_status_str(st_), msg_); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

/* xorshift64*: a small deterministic generator, so every run is the same. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double uniform(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}

static void make_bars(float *x) {
    memset(x, 0, sizeof(float) * NPIX);
    for (int k = 0; k < 2 * SIDE; k++) {
        if (uniform() >= 1.0 / SIDE) continue;
        for (int i = 0; i < SIDE; i++) {
            int pix = k < SIDE ? k * SIDE + i : i * SIDE + (k - SIDE);
            x[pix] = 1.0f;
        }
    }
}

/* logits[b][j] = sum_k W[j][k] z[b][k] + bias[j] */
static void predict(const float *W, const float *bias, const float *z, float *logits) {
    for (int b = 0; b < BATCH; b++)
        for (int j = 0; j < NPIX; j++) {
            float s = bias[j];
            for (int k = 0; k < NLAT; k++) s += W[j * NLAT + k] * z[b * NLAT + k];
            logits[b * NPIX + j] = s;
        }
}

static int write_pgm(const char *path, int w, int h, const float *img, float lo, float hi) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fprintf(f, "P5\n%d %d\n255\n", w, h);
    for (int i = 0; i < w * h; i++) {
        float v = (img[i] - lo) / (hi - lo);
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        fputc((int)(v * 255.0f + 0.5f), f);
    }
    return fclose(f);
}

int main(int argc, char **argv) {
    int epochs = argc > 1 ? atoi(argv[1]) : 30;
    const char *outdir = argc > 2 ? argv[2] : ".";

    static float W[NPIX * NLAT], bias[NPIX];
    static float x[BATCH * NPIX], logits[BATCH * NPIX], e[BATCH * NPIX], z[BATCH * NLAT];
    float L = 0.0f;
    for (int i = 0; i < NPIX * NLAT; i++) W[i] = (float)(0.1 * (uniform() - 0.5));
    for (int j = 0; j < NPIX; j++) bias[j] = -2.0f;

    NgcCell *out = NULL;
    CHECK(ngc_bernoulli_error_cell_new("pixels", NPIX, BATCH, true, NULL, NGC_DTYPE_F32, &out));
    CHECK(ngc_cell_bind_f32(out, "p", logits, BATCH * NPIX));
    CHECK(ngc_cell_bind_f32(out, "target", x, BATCH * NPIX));
    CHECK(ngc_cell_bind_f32(out, "dp", e, BATCH * NPIX));
    CHECK(ngc_cell_bind_f32(out, "L", &L, 1));

    const float beta = 0.1f, lambda = 0.02f, lr = 0.02f;
    double first = 0.0, last = 0.0;
    printf("epoch  log-likelihood per image (nats)\n");
    for (int epoch = 0; epoch < epochs; epoch++) {
        double ll = 0.0;
        for (int batch = 0; batch < BATCHES_PER_EPOCH; batch++) {
            for (int b = 0; b < BATCH; b++) make_bars(&x[b * NPIX]);
            memset(z, 0, sizeof z);
            /* Inference: settle the latents on this batch. */
            for (int step = 0; step < INFER_STEPS; step++) {
                predict(W, bias, z, logits);
                CHECK(ngc_cell_advance(out, step, 1.0));
                for (int b = 0; b < BATCH; b++)
                    for (int k = 0; k < NLAT; k++) {
                        float g = 0.0f;
                        for (int j = 0; j < NPIX; j++) g += W[j * NLAT + k] * e[b * NPIX + j];
                        float v = z[b * NLAT + k] + beta * (g - lambda);
                        z[b * NLAT + k] = v > 0.0f ? v : 0.0f;
                    }
            }
            /* Learning: the error at the settled latents. */
            predict(W, bias, z, logits);
            CHECK(ngc_cell_advance(out, INFER_STEPS, 1.0));
            ll += L / BATCH;
            for (int j = 0; j < NPIX; j++) {
                float gb = 0.0f;
                for (int b = 0; b < BATCH; b++) gb += e[b * NPIX + j];
                bias[j] += lr * gb / BATCH;
                for (int k = 0; k < NLAT; k++) {
                    float g = 0.0f;
                    for (int b = 0; b < BATCH; b++) g += e[b * NPIX + j] * z[b * NLAT + k];
                    W[j * NLAT + k] += 4.0f * lr * g / BATCH;
                }
            }
        }
        ll /= BATCHES_PER_EPOCH;
        if (epoch == 0) first = ll;
        last = ll;
        printf("%5d  %9.3f\n", epoch + 1, ll);
    }

    /* The learned causes: column k of W as an 8x8 tile, 4x4 tiles with 1-pixel gaps. */
    enum { GRID = 4, TILE = SIDE + 1, IMG = GRID * TILE + 1 };
    static float img[IMG * IMG];
    float lo = 0.0f, hi = 0.0f;
    for (int i = 0; i < NPIX * NLAT; i++) {
        lo = W[i] < lo ? W[i] : lo;
        hi = W[i] > hi ? W[i] : hi;
    }
    for (int i = 0; i < IMG * IMG; i++) img[i] = lo;
    for (int k = 0; k < NLAT; k++)
        for (int r = 0; r < SIDE; r++)
            for (int c = 0; c < SIDE; c++)
                img[((k / GRID) * TILE + 1 + r) * IMG + (k % GRID) * TILE + 1 + c] =
                    W[(r * SIDE + c) * NLAT + k];
    char path[1024];
    snprintf(path, sizeof path, "%s/bars_weights.pgm", outdir);
    if (write_pgm(path, IMG, IMG, img, lo, hi) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    printf("wrote %s (the %d learned causes)\n", path, NLAT);

    /* Eight data images (top row) and their reconstructions sigmoid(W z + b) (bottom row). */
    enum { SHOW = 8, RW = SHOW * TILE + 1, RH = 2 * TILE + 1 };
    static float rec[RW * RH];
    for (int i = 0; i < RW * RH; i++) rec[i] = 0.5f;
    for (int b = 0; b < SHOW; b++)
        for (int r = 0; r < SIDE; r++)
            for (int c = 0; c < SIDE; c++) {
                int j = r * SIDE + c;
                rec[(1 + r) * RW + b * TILE + 1 + c] = x[b * NPIX + j];
                rec[(TILE + 1 + r) * RW + b * TILE + 1 + c] =
                    1.0f / (1.0f + expf(-logits[b * NPIX + j]));
            }
    snprintf(path, sizeof path, "%s/bars_recon.pgm", outdir);
    if (write_pgm(path, RW, RH, rec, 0.0f, 1.0f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    printf("wrote %s (data above, reconstructions below)\n", path);

    ngc_cell_free(out);
    if (!(last > first)) {
        fprintf(stderr, "the log-likelihood did not rise (%.3f -> %.3f)\n", first, last);
        return 1;
    }
    printf("log-likelihood per image rose from %.3f to %.3f nats\n", first, last);
    return 0;
}
