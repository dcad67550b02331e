// The header compiled as C++ (-std=c++11 -Wall -Wextra -Werror -pedantic), included
// twice to check the include guard, and linked: the extern "C" block must hold.
#include "ngc_cells.h"
#include "ngc_cells.h"

#include <cstdio>
#include <cstring>

int main() {
    NgcCell *cell = nullptr;
    NgcStatus st = ngc_bernoulli_error_cell_new("cxx", 2, 1, true, nullptr, NGC_DTYPE_F32, &cell);
    if (st != NGC_OK) return 1;
    const float p[2] = {0.0f, 0.0f}, x[2] = {1.0f, 0.0f};
    float dp[2] = {0, 0};
    if (ngc_cell_set_f32(cell, "p", p, 2) != NGC_OK || ngc_cell_set_f32(cell, "target", x, 2) != NGC_OK ||
        ngc_cell_advance(cell, 0.0, 1.0) != NGC_OK || ngc_cell_get_f32(cell, "dp", dp, 2) != NGC_OK)
        return 2;
    ngc_cell_free(cell);
    bool ok = dp[0] == 0.5f && dp[1] == -0.5f && std::strncmp(ngc_version(), "ngc-cells/", 10) == 0;
    std::printf("header_cxx: %s\n", ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
    return ok ? 0 : 3;
}
