// Quick start (C++17): ngc-learn's own BernoulliErrorCell test through ngc_cells.hpp.
//
// One unit, batch 1, probabilities (input_logits = false), ten steps. The inputs are
// those of ngc-learn's test (numpy seed 42); the expected dp values are what ngc-learn
// 3.2.3 computes (float32). Our vectors are bound to the cell (zero copy); the cell
// frees itself at the end of main; a failed call throws ngc::Error.
//
//   c++ -std=c++17 -I include examples/cpp/quickstart.cpp -L target/release -lngc_cells
#include <cmath>
#include <cstdio>
#include <vector>

#include "ngc_cells.hpp"

int main() try {
    const float p_in[10] = {0.49671414f, -0.13826430f, 0.64768857f, 1.5230298f,  -0.23415338f,
                            -0.23413695f, 1.5792128f,  0.76743472f, -0.46947438f, 0.54256004f};
    const float dp_ref[10] = {-2.8193381f, -4976.9263f, -2.1224928f, -2939.0425f, -1233.3916f,
                              -0.24662945f, -708.30042f, 0.28213939f, 3550.8477f, 1.3651246f};

    std::printf("%s (header %s)\n", ngc::version(), NGC_CELLS_VERSION_STRING);
    ngc::Cell cell = ngc::Cell::bernoulli_error("z0", 1);  // 1 unit, batch 1, float32

    std::vector<float> p(1), target(1), dp(1);  // bound: the cell reads and writes them
    cell.bind("p", p);
    cell.bind("target", target);
    cell.bind("dp", dp);

    int failures = 0;
    for (int t = 0; t < 10; t++) {
        p[0] = p_in[t];
        target[0] = static_cast<float>(t - 5) / 2.0f;
        cell.advance(t, 1.0);
        const bool ok = std::fabs(dp[0] - dp_ref[t]) <= 1e-3f + 1e-5f * std::fabs(dp_ref[t]);
        failures += !ok;
        std::printf("t=%d  p=% .7f  target=% .1f  dp=% 14.7f  (ngc-learn % 14.7f)  L=% .6f  %s\n", t,
                    static_cast<double>(p[0]), static_cast<double>(target[0]), static_cast<double>(dp[0]),
                    static_cast<double>(dp_ref[t]), cell.loss(), ok ? "ok" : "MISMATCH");
    }

    // Errors are exceptions carrying the status and the library's message.
    std::vector<double> wrong(1);
    try {
        cell.bind("target", wrong);  // a double buffer on a float32 cell
        std::printf("expected NGC_ERR_DTYPE_MISMATCH\n");
        failures++;
    } catch (const ngc::Error &e) {
        std::printf("caught %s (%d): %s\n", e.status_name(), e.status(), e.message().c_str());
        failures += e.status() != NGC_ERR_DTYPE_MISMATCH;
    }

    if (failures) {
        std::fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    std::printf("all 10 steps match ngc-learn\n");
    return 0;
} catch (const ngc::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
}
