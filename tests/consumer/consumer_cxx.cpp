// The C++ consumer of the installed library: the installed ngc_cells.hpp, built by
// tests/consumer/CMakeLists.txt against the shared and the static library. One step
// of ngc-learn's BernoulliErrorCell test, and an error that must arrive as ngc::Error
// (so C++ exceptions work next to the static library's own unwinder).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include <ngc_cells.hpp>

int main(int argc, char **argv) try {
    const char *how = argc > 1 ? argv[1] : "?";
    if (std::strcmp(ngc::version(), "ngc-cells/" NGC_CELLS_VERSION_STRING) != 0) {
        std::fprintf(stderr, "consumer_cxx: library %s, header %s\n", ngc::version(),
                     NGC_CELLS_VERSION_STRING);
        return 1;
    }
    ngc::Cell cell = ngc::Cell::bernoulli_error("z0", 1);
    std::vector<float> p{0.49671414f}, target{-2.5f}, dp(1);
    cell.bind("p", p);
    cell.bind("target", target);
    cell.bind("dp", dp);
    cell.advance(0.0, 1.0);
    const float dp_ref = -2.8193381f;
    if (!(std::fabs(dp[0] - dp_ref) <= 1e-5f * std::fabs(dp_ref))) {
        std::fprintf(stderr, "consumer_cxx: dp = %.9g, ngc-learn says %.9g\n",
                     static_cast<double>(dp[0]), static_cast<double>(dp_ref));
        return 1;
    }
    std::vector<double> wrong(1);
    try {
        cell.bind("target", wrong);  // a double buffer on a float32 cell
        std::fprintf(stderr, "consumer_cxx: no ngc::Error for a dtype mismatch\n");
        return 1;
    } catch (const ngc::Error &e) {
        if (e.status() != NGC_ERR_DTYPE_MISMATCH) {
            std::fprintf(stderr, "consumer_cxx: %s\n", e.what());
            return 1;
        }
    }
    std::printf("consumer ok (%s): %s dp=%.7f\n", how, ngc::version(), static_cast<double>(dp[0]));
    return 0;
} catch (const ngc::Error &e) {
    std::fprintf(stderr, "consumer_cxx: %s\n", e.what());
    return 1;
}
