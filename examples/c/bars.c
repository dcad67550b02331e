/*
 * Main demo: sparse coding of 8x8 "bars" images, a predictive-coding model whose
 * neurons are all ngc-cells. This program only does the synapses: two matrix
 * products per step and a Hebbian update per batch.
 *
 * Data (made here): each image lights every one of its 8 horizontal and 8 vertical
 * bars with probability 1/8, so an image is a superposition of about two bars.
 *
 * Model (ngc-learn's sparse coding, as in its olshausen_sc exhibit):
 *   x  RateCell, stateless: clamps the image (x.j = image, x.zF = the clamped copy)
 *   z  RateCell, 16 latents: stateful, euler, tau_m 5, a Cauchy prior, relu,
 *      soft threshold (the sparsity); rest 0 at the start of every batch
 *   e  GaussianErrorCell, 64 pixels: target = x.zF, mu = W z.zF, dmu = x - mu
 * The cells share this program's arrays (zero copy): x.zF and e.target are one
 * buffer; the program writes mu = W zF into e.mu and j = W^T dmu into z.j, reads
 * e.dmu and z.zF. After the latents settle: W += eta dmu zF^T, columns renormalised.
 *
 * Each epoch prints the energy e's L reports, 0.5 |x - W zF|^2 per image: it falls
 * about tenfold. At the end the 16 columns of W (the causes it found: the bars) go
 * to bars_dictionary.png, written by the small PNG encoder below.
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
#define BATCH 32
#define BATCHES_PER_EPOCH 20
#define INFER_STEPS 40

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
        for (int i = 0; i < SIDE; i++) x[k < SIDE ? k * SIDE + i : i * SIDE + (k - SIDE)] = 1.0f;
    }
}

/* Scales every column of W (NPIX x NLAT, row-major) to unit length. */
static void normalise_columns(float *W) {
    for (int k = 0; k < NLAT; k++) {
        double n = 0.0;
        for (int j = 0; j < NPIX; j++) n += (double)W[j * NLAT + k] * W[j * NLAT + k];
        float s = n > 0.0 ? (float)(1.0 / sqrt(n)) : 0.0f;
        for (int j = 0; j < NPIX; j++) W[j * NLAT + k] *= s;
    }
}

/* --- A minimal PNG encoder: 8-bit grey, stored (uncompressed) deflate blocks. --- */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc;
}
static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}
/* One chunk: length, type, data, CRC-32 of type and data. */
static void chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len) {
    uint8_t b[4];
    put32(b, len);
    fwrite(b, 1, 4, f);
    fwrite(type, 1, 4, f);
    fwrite(data, 1, len, f);
    uint32_t crc = crc32_update(0xFFFFFFFFu, (const uint8_t *)type, 4);
    put32(b, crc32_update(crc, data, len) ^ 0xFFFFFFFFu);
    fwrite(b, 1, 4, f);
}
static int write_png(const char *path, uint32_t w, uint32_t h, const uint8_t *grey) {
    size_t raw_len = (size_t)(w + 1) * h, blocks = (raw_len + 65534) / 65535;
    uint8_t *raw = malloc(raw_len), *z = malloc(2 + 5 * blocks + raw_len + 4), *q = z;
    FILE *f = raw && z ? fopen(path, "wb") : NULL;
    if (!f) {
        free(raw), free(z);
        return -1;
    }
    for (uint32_t y = 0; y < h; y++) { /* each row: filter type 0 (none), then its pixels */
        raw[y * (w + 1)] = 0;
        memcpy(raw + y * (w + 1) + 1, grey + y * w, w);
    }
    *q++ = 0x78, *q++ = 0x01; /* zlib header: deflate, 32K window, no preset dictionary */
    for (size_t done = 0; done < raw_len;) {
        size_t n = raw_len - done < 65535 ? raw_len - done : 65535;
        *q++ = done + n == raw_len; /* BFINAL on the last block; BTYPE 00: stored */
        *q++ = (uint8_t)n, *q++ = (uint8_t)(n >> 8), *q++ = (uint8_t)~n, *q++ = (uint8_t)(~n >> 8);
        memcpy(q, raw + done, n), q += n, done += n;
    }
    uint32_t a = 1, b = 0; /* Adler-32 of the uncompressed bytes */
    for (size_t i = 0; i < raw_len; i++) a = (a + raw[i]) % 65521, b = (b + a) % 65521;
    put32(q, b << 16 | a), q += 4;
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    uint8_t ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0}; /* 8-bit greyscale */
    put32(ihdr, w), put32(ihdr + 4, h);
    fwrite(sig, 1, 8, f);
    chunk(f, "IHDR", ihdr, 13);
    chunk(f, "IDAT", z, (uint32_t)(q - z));
    chunk(f, "IEND", sig, 0); /* no data */
    free(raw), free(z);
    return fclose(f);
}

int main(int argc, char **argv) {
    int epochs = argc > 1 ? atoi(argv[1]) : 20;
    const char *outdir = argc > 2 ? argv[2] : ".";
    const float eta = 0.2f;

    static float W[NPIX * NLAT], image[BATCH * NPIX], x[BATCH * NPIX], mu[BATCH * NPIX],
        dmu[BATCH * NPIX], jz[BATCH * NLAT], zf[BATCH * NLAT];
    for (int i = 0; i < NPIX * NLAT; i++) W[i] = (float)(uniform() - 0.5);
    normalise_columns(W);

    /* The neurons. RateCell args: tau_m, prior, leak, act_fx, output_scale, threshold,
     * lambda, integration, resist_scale, is_stateful, shape, dtype. */
    NgcCell *xc = NULL, *zc = NULL, *ec = NULL;
    CHECK(ngc_rate_cell_new("x", NPIX, BATCH, 0.0, NULL, 0.0, "identity", 1.0, NULL, 0.0, NULL,
                            1.0, false, NULL, NGC_DTYPE_F32, &xc));
    CHECK(ngc_rate_cell_new("z", NLAT, BATCH, 5.0, "cauchy", 0.1, "relu", 1.0, "soft_threshold",
                            0.05, "euler", 1.0, true, NULL, NGC_DTYPE_F32, &zc));
    CHECK(ngc_gaussian_error_cell_new("e", NPIX, BATCH, 1.0, NULL, NGC_DTYPE_F32, &ec));
    /* The wiring: shared arrays. */
    CHECK(ngc_cell_bind_f32(xc, "j", image, BATCH * NPIX));
    CHECK(ngc_cell_bind_f32(xc, "zF", x, BATCH * NPIX));
    CHECK(ngc_cell_bind_f32(ec, "target", x, BATCH * NPIX));
    CHECK(ngc_cell_bind_f32(ec, "mu", mu, BATCH * NPIX));
    CHECK(ngc_cell_bind_f32(ec, "dmu", dmu, BATCH * NPIX));
    CHECK(ngc_cell_bind_f32(zc, "j", jz, BATCH * NLAT));
    CHECK(ngc_cell_bind_f32(zc, "zF", zf, BATCH * NLAT));

    double first = 0.0, last = 0.0;
    printf("epoch  energy 0.5|x - W z|^2 per image\n");
    for (int epoch = 0; epoch < epochs; epoch++) {
        double energy = 0.0;
        for (int batch = 0; batch < BATCHES_PER_EPOCH; batch++) {
            for (int b = 0; b < BATCH; b++) make_bars(&image[b * NPIX]);
            CHECK(ngc_cell_advance(xc, 0.0, 1.0)); /* clamp the data */
            CHECK(ngc_cell_reset(zc));             /* latents at rest */
            for (int step = 0; step <= INFER_STEPS; step++) {
                for (int b = 0; b < BATCH; b++) /* mu = W zF */
                    for (int j = 0; j < NPIX; j++) {
                        float s = 0.0f;
                        for (int k = 0; k < NLAT; k++) s += W[j * NLAT + k] * zf[b * NLAT + k];
                        mu[b * NPIX + j] = s;
                    }
                CHECK(ngc_cell_advance(ec, step, 1.0)); /* dmu = x - mu, L */
                if (step == INFER_STEPS) break;         /* settled: learn from this error */
                for (int b = 0; b < BATCH; b++)         /* j = W^T dmu */
                    for (int k = 0; k < NLAT; k++) {
                        float s = 0.0f;
                        for (int j = 0; j < NPIX; j++) s += W[j * NLAT + k] * dmu[b * NPIX + j];
                        jz[b * NLAT + k] = s;
                    }
                CHECK(ngc_cell_advance(zc, step, 1.0)); /* one Euler step of the latents */
            }
            double L = 0.0;
            CHECK(ngc_cell_loss(ec, &L));
            energy += -L / BATCH;
            for (int j = 0; j < NPIX; j++) /* Hebbian: W += eta/B dmu zF^T */
                for (int k = 0; k < NLAT; k++) {
                    float g = 0.0f;
                    for (int b = 0; b < BATCH; b++) g += dmu[b * NPIX + j] * zf[b * NLAT + k];
                    W[j * NLAT + k] += eta * g / BATCH;
                }
            normalise_columns(W);
        }
        energy /= BATCHES_PER_EPOCH;
        if (epoch == 0) first = energy;
        last = energy;
        printf("%5d  %8.4f\n", epoch + 1, energy);
    }

    /* The dictionary: column k of W as an 8x8 tile in a 4x4 grid, 1-pixel gaps, zoomed. */
    enum { GRID = 4, TILE = SIDE + 1, CELLS = GRID * TILE + 1, ZOOM = 6, PX = CELLS * ZOOM };
    static uint8_t png[PX * PX];
    float hi = 0.0f;
    for (int i = 0; i < NPIX * NLAT; i++) hi = fabsf(W[i]) > hi ? fabsf(W[i]) : hi;
    for (int py = 0; py < PX; py++)
        for (int px = 0; px < PX; px++) {
            int r = py / ZOOM % TILE - 1, c = px / ZOOM % TILE - 1;
            int k = py / ZOOM / TILE * GRID + px / ZOOM / TILE;
            png[py * PX + px] = r < 0 || c < 0 /* gaps black; weights -hi..hi: black..white */
                                    ? 0
                                    : (uint8_t)lrintf(127.5f + 127.5f * W[(r * SIDE + c) * NLAT + k] / hi);
        }
    char path[1024];
    snprintf(path, sizeof path, "%s/bars_dictionary.png", outdir);
    if (write_png(path, PX, PX, png) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    printf("wrote %s (the %d learned causes)\n", path, NLAT);

    ngc_cell_free(xc);
    ngc_cell_free(zc);
    ngc_cell_free(ec);
    if (!(last < first)) {
        fprintf(stderr, "the energy did not fall (%.4f -> %.4f)\n", first, last);
        return 1;
    }
    printf("energy per image fell from %.4f to %.4f (%.1fx)\n", first, last, first / last);
    return 0;
}
