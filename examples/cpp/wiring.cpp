// Wiring (C++17): two cells connected through one shared buffer, no copies.
//
// Cell `a` (logits, 4 units, batch 2) writes its error dp into `gate`; the same
// `gate` vector is bound as cell `b`'s modulator, so b's dp and dtarget are scaled by
// a's error element by element. This is how a host simulator chains cells: one array
// is an output of one cell and an input of the next. (Two compartments of the *same*
// cell may not share memory: that bind throws NGC_ERR_OVERLAP, shown at the end.)
//
//   c++ -std=c++17 -I include examples/cpp/wiring.cpp -L target/release -lngc_cells
#include <cmath>
#include <cstdio>
#include <vector>

#include "ngc_cells.hpp"

namespace {
double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }
}  // namespace

int main() try {
    const std::size_t units = 4, batch = 2, n = units * batch;
    ngc::Cell a = ngc::Cell::bernoulli_error("a", units, batch, /*input_logits=*/true, ngc::Dtype::F64);
    ngc::Cell b = ngc::Cell::bernoulli_error("b", units, batch, /*input_logits=*/true, ngc::Dtype::F64);

    std::vector<double> pa = {-2.0, -1.0, 0.0, 1.0, 2.0, 0.5, -0.5, 3.0};
    std::vector<double> xa = {1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0};
    std::vector<double> pb = {0.3, -0.3, 1.5, -1.5, 0.0, 2.5, -2.5, 0.1};
    std::vector<double> xb = {0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0};
    std::vector<double> gate(n);  // a's dp and b's modulator: one buffer
    std::vector<double> dpb(n);

    a.bind("p", pa);
    a.bind("target", xa);
    a.bind("dp", gate);         // output of a ...
    b.bind("p", pb);
    b.bind("target", xb);
    b.bind("modulator", gate);  // ... is the input of b
    b.bind("dp", dpb);

    a.advance();  // writes gate
    b.advance();  // reads gate

    int failures = 0;
    for (std::size_t i = 0; i < n; i++) {
        const double qa = sigmoid(pa[i]), qb = sigmoid(pb[i]);  // all within the clip bounds
        const double want_gate = xa[i] - qa, want_dpb = (xb[i] - qb) * want_gate;
        const bool ok = std::fabs(gate[i] - want_gate) < 1e-12 && std::fabs(dpb[i] - want_dpb) < 1e-12;
        failures += !ok;
        std::printf("i=%zu  gate=% .6f  dp_b=% .6f  %s\n", i, gate[i], dpb[i], ok ? "ok" : "MISMATCH");
    }
    std::printf("L_a=%.6f  L_b=%.6f\n", a.loss(), b.loss());

    try {
        b.bind("dtarget", gate);  // gate is already b's modulator
        failures++;
    } catch (const ngc::Error &e) {
        std::printf("refused: %s\n", e.what());
        failures += e.status() != NGC_ERR_OVERLAP;
    }

    if (failures) {
        std::fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    std::printf("wiring ok\n");
    return 0;
} catch (const ngc::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
}
