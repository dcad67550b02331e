// Tests of include/ngc_cells.hpp (C++17): ownership, binding, copies, metadata and
// the exception path. Prints "N passed, M failed" last; exits non-zero on a failure.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ngc_cells.hpp"

std::size_t second_tu_units(const ngc::Cell &cell);  // tests/cpp/second_tu.cpp

static_assert(!std::is_copy_constructible_v<ngc::Cell>, "move-only");
static_assert(!std::is_copy_assignable_v<ngc::Cell>, "move-only");
static_assert(std::is_nothrow_move_constructible_v<ngc::Cell>, "noexcept move");
static_assert(std::is_nothrow_move_assignable_v<ngc::Cell>, "noexcept move");
static_assert(std::is_base_of_v<std::runtime_error, ngc::Error>, "std exception");
// Binding a temporary vector is refused at compile time; binding a named one is fine.
template <typename V, typename = void>
struct can_bind : std::false_type {};
template <typename V>
struct can_bind<V, std::void_t<decltype(std::declval<ngc::Cell &>().bind("p", std::declval<V>()))>>
    : std::true_type {};
static_assert(can_bind<std::vector<float> &>::value && can_bind<std::vector<double> &>::value, "bind");
static_assert(!can_bind<std::vector<float>>::value && !can_bind<std::vector<double>>::value, "no rvalue bind");

namespace {
int passed = 0, failed = 0;

#define EXPECT(cond)                                                  \
    do {                                                              \
        if (cond) {                                                   \
            passed++;                                                 \
        } else {                                                      \
            failed++;                                                 \
            std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                             \
    } while (0)

// Runs `f`, expects an ngc::Error with `status` whose message contains `needle`.
template <typename F>
void expect_error(int line, NgcStatus status, const char *needle, F &&f) {
    try {
        f();
        failed++;
        std::printf("FAIL line %d: no exception (wanted %s)\n", line, ngc::status_str(status));
    } catch (const ngc::Error &e) {
        const bool ok = e.status() == status && e.message().find(needle) != std::string::npos &&
                        std::string(e.what()) == std::string(ngc::status_str(status)) + ": " + e.message() &&
                        std::strcmp(e.status_name(), ngc::status_str(status)) == 0;
        if (ok) {
            passed++;
        } else {
            failed++;
            std::printf("FAIL line %d: wanted %s containing '%s', got %s\n", line, ngc::status_str(status),
                        needle, e.what());
        }
    }
}
#define EXPECT_ERROR(status, needle, body) expect_error(__LINE__, status, needle, [&]() { body; })

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

void test_metadata() {
    EXPECT(std::strncmp(ngc::version(), "ngc-cells/", 10) == 0);
    ngc::Cell c = ngc::Cell::bernoulli_error("layer1", 2, 3);
    EXPECT(static_cast<bool>(c));
    EXPECT(c.type() == "BernoulliErrorCell");
    EXPECT(c.name() == "layer1");
    EXPECT(c.n_units() == 2 && second_tu_units(c) == 2);
    EXPECT(c.batch_size() == 3);
    EXPECT(c.dtype() == ngc::Dtype::F32);
    EXPECT(c.threads() == 1);
    const std::vector<std::string> want = {"p", "target", "modulator", "mask", "L", "dp", "dtarget"};
    EXPECT(c.compartment_names() == want);
    EXPECT(c.compartment_len("p") == 6 && c.compartment_len("L") == 1);
    EXPECT((c.compartment_dims("dp") == std::vector<std::size_t>{3, 2}));
    EXPECT(c.compartment_dims("L").empty());
    const std::string json = c.metadata_json();
    EXPECT(json.size() > 100 && json.front() == '{' && json.back() == '}');
    EXPECT(json.find("\"BernoulliErrorCell\"") != std::string::npos);
    EXPECT(json.find("input_logits") != std::string::npos);
    EXPECT(json.find('\0') == std::string::npos);

    const std::string long_name(300, 'n');  // longer than any fixed buffer would be
    EXPECT(ngc::Cell::bernoulli_error(long_name, 1).name() == long_name);

    ngc::Cell img = ngc::Cell::bernoulli_error("img", 12, 2, false, ngc::Dtype::F64,
                                               std::array<std::size_t, 3>{2, 3, 2});
    EXPECT((img.compartment_dims("p") == std::vector<std::size_t>{2, 2, 3, 2}));
    EXPECT(img.compartment_len("target") == 24 && img.n_units() == 12 && img.dtype() == ngc::Dtype::F64);
    img.set_threads(2);
    EXPECT(img.threads() == 2);
}

void test_bind_and_copy() {
    ngc::Cell c = ngc::Cell::bernoulli_error("z", 2, 1, /*input_logits=*/true);
    std::vector<float> p = {0.0f, 2.0f}, x = {1.0f, 0.0f}, dp(2, -7.0f);
    c.bind("p", p);
    c.bind("target", x.data(), x.size());
    c.bind("dp", dp);
    EXPECT(c.is_bound("p") && c.is_bound("target") && c.is_bound("dp") && !c.is_bound("mask"));
    EXPECT(dp[0] == -7.0f);  // binding does not write the buffer ...
    EXPECT(c.get<float>("dp") == dp);  // ... it becomes the value
    c.advance(0.0, 1.0);
    EXPECT(dp[0] == 0.5f);  // x - sigmoid(0)
    EXPECT(std::fabs(static_cast<double>(dp[1]) + sigmoid(2.0)) < 1e-6);
    const double want_l = std::log(0.5) + std::log(1.0 - sigmoid(2.0));
    EXPECT(std::fabs(c.loss() - want_l) < 1e-6);

    // Copies in and out: pointer + size, and vectors.
    const float mod[2] = {2.0f, 3.0f};
    c.set("modulator", mod, 2);
    std::vector<float> got(2);
    c.get("modulator", got);
    EXPECT(got[0] == 2.0f && got[1] == 3.0f);
    c.set("mask", std::vector<float>{0.0f, 1.0f});
    c.advance();
    EXPECT(dp[0] == 0.0f);  // masked
    EXPECT(std::fabs(static_cast<double>(dp[1]) + 3.0 * sigmoid(2.0)) < 1e-5);
    float mask[2] = {5, 5};
    c.get("mask", mask, 2);
    EXPECT(mask[0] == 1.0f && mask[1] == 1.0f);  // consumed by the step

    // unbind: the cell keeps the values, the vector is free again.
    c.unbind("dp");
    EXPECT(!c.is_bound("dp"));
    const std::vector<float> kept = dp;
    dp.assign(2, 0.0f);
    EXPECT(c.get<float>("dp") == kept);

    // Resets write rest values into bound buffers.
    c.reset();
    EXPECT(p[0] == 0.0f && p[1] == 0.0f && x[0] == 0.0f && c.loss() == 0.0);

    // A float64 cell and batched_reset with room to grow.
    ngc::Cell d = ngc::Cell::bernoulli_error("d", 3, 1, false, ngc::Dtype::F64);
    std::vector<double> big(3 * 4, 9.0);
    d.bind("modulator", big);
    d.batched_reset(4);
    EXPECT(d.batch_size() == 4 && d.compartment_len("p") == 12);
    EXPECT(big[11] == 1.0);
    d.reset();
    EXPECT(d.batch_size() == 1 && d.get<double>("p").size() == 3);
}

void test_errors() {
    ngc::Cell c = ngc::Cell::bernoulli_error("e", 2, 1);
    std::vector<float> a(2), b(4);
    std::vector<double> wrong(2);
    EXPECT_ERROR(NGC_ERR_ZERO_SIZE, "", (void)ngc::Cell::bernoulli_error("zero", 0));
    EXPECT_ERROR(NGC_ERR_UNKNOWN_COMPARTMENT, "'q'", c.bind("q", a));
    EXPECT_ERROR(NGC_ERR_DTYPE_MISMATCH, "", c.bind("p", wrong));
    EXPECT_ERROR(NGC_ERR_DTYPE_MISMATCH, "", c.get<double>("p"));
    EXPECT_ERROR(NGC_ERR_LENGTH_MISMATCH, "", c.set("p", b));
    EXPECT_ERROR(NGC_ERR_LENGTH_MISMATCH, "", c.get("p", b));
    EXPECT_ERROR(NGC_ERR_CAPACITY_TOO_SMALL, "", c.bind("p", a.data(), 1));
    EXPECT_ERROR(NGC_ERR_NOT_BOUND, "", c.unbind("p"));
    EXPECT_ERROR(NGC_ERR_INVALID_ARGUMENT, "", c.set_threads(0));
    c.bind("p", b);
    EXPECT_ERROR(NGC_ERR_OVERLAP, "'p'", c.bind("target", b.data() + 2, 2));
    EXPECT_ERROR(NGC_ERR_CAPACITY_TOO_SMALL, "", c.batched_reset(3));
    EXPECT(c.batch_size() == 1);  // the failed reset changed nothing
    EXPECT_ERROR(NGC_ERR_ZERO_SIZE, "", c.batched_reset(0));
    ngc::check(NGC_OK);  // no throw

    // ngc::Error is a std::runtime_error.
    try {
        c.get<float>("nope");
        failed++;
    } catch (const std::exception &e) {
        EXPECT(std::string(e.what()).rfind("NGC_ERR_UNKNOWN_COMPARTMENT: ", 0) == 0);
    }
}

void test_ownership() {
    ngc::Cell a = ngc::Cell::bernoulli_error("a", 1);
    ngc::Cell b = std::move(a);
    EXPECT(!a && b);
    EXPECT(b.name() == "a");
    EXPECT_ERROR(NGC_ERR_NULL_POINTER, "", a.advance());  // moved-from: the C API refuses NULL
    ngc::Cell c = ngc::Cell::bernoulli_error("c", 1);
    c = std::move(b);  // frees c's old cell
    EXPECT(c.name() == "a" && !b);
    ngc::Cell &alias = c;
    c = std::move(alias);  // self-move keeps the cell
    EXPECT(c && c.name() == "a");
    NgcCell *raw = c.release();
    EXPECT(!c && raw != nullptr);
    ngc::Cell d(raw);  // and back
    EXPECT(d.name() == "a");
    EXPECT(d.get() == raw);
    std::vector<ngc::Cell> cells;  // move-only types go in containers
    for (int i = 0; i < 3; i++) cells.push_back(ngc::Cell::bernoulli_error("v" + std::to_string(i), 1));
    EXPECT(cells[2].name() == "v2");
}
}  // namespace

int main() {
    try {
        test_metadata();
        test_bind_and_copy();
        test_errors();
        test_ownership();
    } catch (const std::exception &e) {
        failed++;
        std::printf("FAIL: unexpected exception: %s\n", e.what());
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
