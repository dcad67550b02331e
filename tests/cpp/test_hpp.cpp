// Tests of include/ngc_cells.hpp (C++17): ownership, binding, copies, metadata, the
// exception path, and every cell type's factory with its values (set_shaped, evolve). Prints "N passed, M failed" last; exits non-zero on a failure.
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

// ngc-learn's error-cell lesson (docs/tutorials/neurocog/error_cell.md): 3 units,
// mu = [-1, 1, 1], target = [1, -1, 1] -> dmu = [2, -2, 0], dtarget = [-2, 2, -0], L = -4.
template <typename T>
void gaussian_lesson(ngc::Dtype dtype) {
    ngc::Cell e = ngc::Cell::gaussian_error("e0", 3, 1, 1.0, dtype);
    EXPECT(e.type() == "GaussianErrorCell" && e.dtype() == dtype);
    const std::vector<std::string> names = {"mu",  "target",  "Sigma",  "modulator", "mask",
                                            "dmu", "dtarget", "dSigma", "L"};
    EXPECT(e.compartment_names() == names);
    EXPECT((e.compartment_dims("Sigma") == std::vector<std::size_t>{1, 1}));
    EXPECT(e.compartment_dims("L").empty() && e.get<T>("Sigma") == std::vector<T>{1});
    std::vector<T> mu = {-1, 1, 1}, target = {1, -1, 1}, dmu(3), dtarget(3);
    e.bind("mu", mu);
    e.bind("target", target);
    e.bind("dmu", dmu);
    e.bind("dtarget", dtarget);
    e.advance();
    EXPECT((dmu == std::vector<T>{2, -2, 0}));
    EXPECT((dtarget == std::vector<T>{-2, 2, 0}) && std::signbit(dtarget[2]) && !std::signbit(dmu[2]));
    EXPECT(e.loss() == -4.0);
    EXPECT((e.get<T>("dSigma") == std::vector<T>{1}));  // no derivative: ones
    // L is neither masked nor modulated; dmu and dtarget are, and the mask is eaten.
    e.set("mask", std::vector<T>{0, 1, 1});
    e.set("modulator", std::vector<T>{3, 3, 3});
    e.advance();
    EXPECT((dmu == std::vector<T>{0, -6, 0}) && (dtarget == std::vector<T>{-0.0, 6, -0.0}));
    EXPECT(e.loss() == -4.0 && (e.get<T>("mask") == std::vector<T>{1, 1, 1}));
    EXPECT((e.get<T>("modulator") == std::vector<T>{3, 3, 3}));  // kept
    e.evolve(0.0, 1.0);  // no evolve step: nothing changes
    EXPECT((dmu == std::vector<T>{0, -6, 0}) && e.loss() == -4.0);
    e.reset();
    EXPECT((mu == std::vector<T>{0, 0, 0}) && e.loss() == 0.0 && (e.get<T>("dSigma") == std::vector<T>{0}));
}

void test_gaussian() {
    gaussian_lesson<float>(ngc::Dtype::F32);
    gaussian_lesson<double>(ngc::Dtype::F64);

    // A per-unit Sigma, batch 2: dmu = e / Sigma_i; L is one value per unit,
    // L_i = -0.5 * S / Sigma_i with S the sum of e^2 over the whole batch.
    ngc::Cell g = ngc::Cell::gaussian_error("g", 3, 2, 1.0);
    std::vector<float> sigma(3, -1.0f);  // room for a per-unit Sigma
    g.bind("Sigma", sigma);
    EXPECT(sigma[0] == -1.0f && (g.get<float>("Sigma") == std::vector<float>{-1.0f}));  // binding does not write
    g.set_shaped("Sigma", std::vector<float>{1, 2, 4}, {1, 3});
    EXPECT((sigma == std::vector<float>{1, 2, 4}));  // written into the bound buffer
    EXPECT((g.compartment_dims("Sigma") == std::vector<std::size_t>{1, 3}));
    EXPECT((g.compartment_dims("dSigma") == std::vector<std::size_t>{1, 3}));
    EXPECT((g.compartment_dims("L") == std::vector<std::size_t>{3}));  // squeezed
    g.set("mu", std::vector<float>{0, 0, 0, 1, 1, 1});
    g.set("target", std::vector<float>{1, 2, 3, 1, 1, -1});  // e = [1 2 3; 0 0 -2], S = 18
    g.advance();
    EXPECT((g.get<float>("dmu") == std::vector<float>{1, 1, 0.75f, 0, 0, -0.5f}));
    EXPECT((g.get<float>("L") == std::vector<float>{-9, -4.5f, -2.25f}));
    EXPECT((g.get<float>("dSigma") == std::vector<float>{1, 1, 1}));
    EXPECT_ERROR(NGC_ERR_NOT_SUPPORTED, "", (void)g.loss());  // L has 3 elements
    // Sigma survives the resets; dSigma and L go to zeros of their current shapes.
    g.reset();
    EXPECT((g.get<float>("Sigma") == std::vector<float>{1, 2, 4}));
    EXPECT((g.compartment_dims("dSigma") == std::vector<std::size_t>{1, 3}));
    EXPECT((g.get<float>("dSigma") == std::vector<float>{0, 0, 0}) && (g.get<float>("L") == std::vector<float>{0, 0, 0}));
    g.batched_reset(4);  // (1, 3) broadcasts against (4, 3)
    EXPECT(g.batch_size() == 4 && g.compartment_len("dmu") == 12 && g.compartment_len("Sigma") == 3);
    g.reset();

    // A 0-d Sigma: L is one value again. (n_units) and (batch, n_units) forms too.
    g.set_shaped("Sigma", std::vector<float>{2}, {});
    EXPECT(g.compartment_dims("Sigma").empty() && g.compartment_len("Sigma") == 1);
    g.set("target", std::vector<float>{1, 2, 3, 0, 0, -2});
    g.advance();
    EXPECT(g.loss() == -4.5 && (g.get<float>("dmu") == std::vector<float>{0.5f, 1, 1.5f, 0, 0, -1}));
    const double per_unit[3] = {1, 2, 4};
    ngc::Cell h = ngc::Cell::gaussian_error("h", 3, 2, 1.0, ngc::Dtype::F64);
    h.set_shaped("Sigma", per_unit, {3});
    EXPECT((h.compartment_dims("L") == std::vector<std::size_t>{3}) &&
           (h.compartment_dims("dSigma") == std::vector<std::size_t>{3}));
    h.set_shaped("Sigma", std::vector<double>{1, 2, 4, 8, 16, 32}, {2, 3});  // full
    EXPECT((h.compartment_dims("L") == std::vector<std::size_t>{2, 3}));
    h.set("target", std::vector<double>{1, 1, 1, 1, 1, 1});
    h.advance();
    EXPECT((h.get<double>("dmu") == std::vector<double>{1, 0.5, 0.25, 0.125, 0.0625, 0.03125}));
    EXPECT(h.get<double>("L")[5] == -3.0 / 32);
    // A full Sigma does not broadcast against another batch size: refused, nothing changes.
    EXPECT_ERROR(NGC_ERR_SHAPE_MISMATCH, "", h.batched_reset(3));
    EXPECT(h.batch_size() == 2 && h.get<double>("dmu")[0] == 1.0);

    // 4-D: a per-channel Sigma (C) against (batch, H, W, C).
    ngc::Cell img = ngc::Cell::gaussian_error("img", 6, 1, 0.5, ngc::Dtype::F32,
                                              std::array<std::size_t, 3>{1, 2, 3});
    EXPECT((img.compartment_dims("mu") == std::vector<std::size_t>{1, 1, 2, 3}));
    img.set_shaped("Sigma", std::vector<float>{1, 2, 4}, {3});
    img.set("target", std::vector<float>(6, 1.0f));
    img.advance();
    EXPECT((img.get<float>("dmu") == std::vector<float>{1, 0.5f, 0.25f, 1, 0.5f, 0.25f}));
    img.reset();
    EXPECT((img.compartment_dims("mu") == std::vector<std::size_t>{1, 1, 2, 3}));
}

void test_laplacian() {
    // s = sign(target - shift); dshift = s / Scale; L = -(count of target != shift) / Scale.
    ngc::Cell c = ngc::Cell::laplacian_error("lap", 4, 1, 2.0);
    EXPECT(c.type() == "LaplacianErrorCell");
    const std::vector<std::string> names = {"shift",   "target", "Scale",  "modulator", "mask",
                                            "dshift",  "dtarget", "dScale", "L"};
    EXPECT(c.compartment_names() == names);
    c.set("shift", std::vector<float>{0, 1, 2, 3});
    c.set("target", std::vector<float>{0, 2, 1, 3.5f});  // target - shift = [0 1 -1 0.5]
    c.advance();
    const std::vector<float> dshift = c.get<float>("dshift"), dtarget = c.get<float>("dtarget");
    EXPECT((dshift == std::vector<float>{0, 0.5f, -0.5f, 0.5f}) && !std::signbit(dshift[0]));
    EXPECT((dtarget == std::vector<float>{0, -0.5f, 0.5f, -0.5f}) && std::signbit(dtarget[0]));
    EXPECT(c.loss() == -1.5);  // three elements differ, Scale = 2: not the L1 distance
    EXPECT((c.get<float>("dScale") == std::vector<float>{1}));
    c.set_shaped("Scale", std::vector<float>{1, 2, 4, 8}, {4});
    c.advance();
    EXPECT((c.get<float>("L") == std::vector<float>{-3, -1.5f, -0.75f, -0.375f}));
    EXPECT_ERROR(NGC_ERR_NOT_SUPPORTED, "", (void)c.loss());
    c.reset();
    EXPECT((c.get<float>("Scale") == std::vector<float>{1, 2, 4, 8}));
    EXPECT((c.get<float>("shift") == std::vector<float>{0, 0, 0, 0}) && (c.get<float>("dScale") == std::vector<float>(4, 0.0f)));

    // A 4-D Laplacian cell stays 4-D through reset and batched_reset (ngc-learn 3.2.3's
    // comes back (batch, n_units): a bug not copied).
    ngc::Cell img = ngc::Cell::laplacian_error("limg", 4, 2, 1.0, ngc::Dtype::F64,
                                               std::array<std::size_t, 3>{2, 2, 1});
    EXPECT((img.compartment_dims("dshift") == std::vector<std::size_t>{2, 2, 2, 1}));
    img.reset();
    EXPECT((img.compartment_dims("dshift") == std::vector<std::size_t>{2, 2, 2, 1}));
    img.batched_reset(3);
    EXPECT((img.compartment_dims("target") == std::vector<std::size_t>{3, 2, 2, 1}));
    img.set("target", std::vector<double>(12, -1.0));
    img.advance();
    EXPECT(img.loss() == -12.0 && img.get<double>("dshift")[11] == -1.0);
}

void test_reward() {
    // alpha = 0.1, window 10: rpe = reward - mu (the old mu); mu = mu*(1-alpha) + reward*alpha.
    ngc::Cell r = ngc::Cell::reward_error("rpe", 2, 1, 0.1);
    EXPECT(r.type() == "RewardErrorCell");
    const std::vector<std::string> names = {"mu", "reward", "rpe", "accum_reward", "n_ep_steps"};
    EXPECT(r.compartment_names() == names);
    EXPECT((r.compartment_dims("n_ep_steps") == std::vector<std::size_t>{1, 1}));
    std::vector<float> reward = {1, 2};
    r.bind("reward", reward);
    r.advance();
    EXPECT((r.get<float>("rpe") == std::vector<float>{1, 2}));
    EXPECT((r.get<float>("mu") == std::vector<float>{0.1f, 0.2f}));
    reward = {3, 0};
    r.advance();
    const std::vector<float> rpe = r.get<float>("rpe"), mu = r.get<float>("mu");
    EXPECT(std::fabs(rpe[0] - 2.9f) < 1e-6f && std::fabs(rpe[1] + 0.2f) < 1e-6f);
    EXPECT(std::fabs(mu[0] - 0.39f) < 1e-6f && std::fabs(mu[1] - 0.18f) < 1e-6f);
    EXPECT((r.get<float>("accum_reward") == std::vector<float>{4, 2}) &&
           (r.get<float>("n_ep_steps") == std::vector<float>{2}));
    // evolve: mu = (1 - 1/W) mu + (1/W) accum_reward / n_ep_steps.
    r.evolve();
    const std::vector<float> evolved = r.get<float>("mu");
    EXPECT(std::fabs(evolved[0] - 0.551f) < 1e-6f && std::fabs(evolved[1] - 0.262f) < 1e-6f);
    EXPECT_ERROR(NGC_ERR_NOT_SUPPORTED, "", (void)r.loss());  // no L
    r.reset();  // every compartment to 0, reward too (ngc-learn keeps reward)
    EXPECT((reward == std::vector<float>{0, 0}) && (r.get<float>("mu") == std::vector<float>{0, 0}));
    // evolve before any advance: 0/0, mu is NaN (as in ngc-learn), until a reset.
    r.evolve();
    EXPECT(std::isnan(r.get<float>("mu")[0]));
    r.advance();
    EXPECT(std::isnan(r.get<float>("mu")[1]));
    r.reset();
    EXPECT((r.get<float>("mu") == std::vector<float>{0, 0}));

    // Without the online predictor mu never moves: rpe = reward. Batch 3: n_ep_steps (3, 1).
    ngc::Cell off = ngc::Cell::reward_error("off", 2, 3, 0.5, 4, false, ngc::Dtype::F64);
    EXPECT((off.compartment_dims("n_ep_steps") == std::vector<std::size_t>{3, 1}));
    const std::vector<double> rw = {1, -2, 3, 0.5, 5, 6};
    off.set("reward", rw);
    off.advance();
    off.evolve();
    EXPECT(off.get<double>("rpe") == rw && (off.get<double>("mu") == std::vector<double>(6, 0.0)));
    EXPECT((off.get<double>("n_ep_steps") == std::vector<double>{1, 1, 1}));
    off.batched_reset(1);
    EXPECT((off.compartment_dims("n_ep_steps") == std::vector<std::size_t>{1, 1}));

    EXPECT_ERROR(NGC_ERR_ZERO_SIZE, "", (void)ngc::Cell::reward_error("w0", 2, 1, 0.1, 0));
    EXPECT_ERROR(NGC_ERR_ZERO_SIZE, "", (void)ngc::Cell::reward_error("n0", 0, 1, 0.1));
}

void test_set_shaped_errors() {
    ngc::Cell g = ngc::Cell::gaussian_error("g", 3, 2);
    const std::vector<float> three = {1, 2, 3};
    EXPECT_ERROR(NGC_ERR_SHAPE_MISMATCH, "", g.set_shaped("Sigma", std::vector<float>{1, 2, 3, 4}, {4}));
    EXPECT_ERROR(NGC_ERR_SHAPE_MISMATCH, "", g.set_shaped("Sigma", three, {3, 1}));  // (3,1) vs (2,3)
    EXPECT_ERROR(NGC_ERR_SHAPE_MISMATCH, "", g.set_shaped("mu", three, {1, 3}));  // fixed shape (2, 3)
    EXPECT_ERROR(NGC_ERR_ZERO_SIZE, "", g.set_shaped("Sigma", three, {3, 0}));
    EXPECT_ERROR(NGC_ERR_INVALID_ARGUMENT, "", g.set_shaped("Sigma", three.data(), {1, 1, 1, 1, 3}));
    EXPECT_ERROR(NGC_ERR_UNKNOWN_COMPARTMENT, "'sigma'", g.set_shaped("sigma", three, {3}));
    // The wrapper's own checks: the dtype (the C function is untyped) and the vector's size.
    EXPECT_ERROR(NGC_ERR_DTYPE_MISMATCH, "float64 data", g.set_shaped("Sigma", std::vector<double>{2}, {}));
    EXPECT_ERROR(NGC_ERR_LENGTH_MISMATCH, "holds 3 values, the dims 2", g.set_shaped("Sigma", three, {1, 2}));
    // A bound Sigma too small for its new shape: refused, nothing changes.
    std::vector<float> one(1, 5.0f);
    g.bind("Sigma", one);
    EXPECT_ERROR(NGC_ERR_CAPACITY_TOO_SMALL, "", g.set_shaped("Sigma", three, {3}));
    EXPECT((g.compartment_dims("Sigma") == std::vector<std::size_t>{1, 1}) && one[0] == 5.0f);
    // The compartment's own dims are accepted anywhere (then it is a set with a shape check).
    g.set_shaped("mu", std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
    EXPECT(g.get<float>("mu")[5] == 6.0f);
    ngc::Cell moved = std::move(g);
    EXPECT_ERROR(NGC_ERR_NULL_POINTER, "", g.set_shaped("Sigma", std::vector<float>{1}, {}));
    EXPECT_ERROR(NGC_ERR_NULL_POINTER, "", g.evolve());
    EXPECT(ngc::status_str(NGC_ERR_NOT_SUPPORTED) == std::string("NGC_ERR_NOT_SUPPORTED") &&
           ngc::status_str(NGC_ERR_SHAPE_MISMATCH) == std::string("NGC_ERR_SHAPE_MISMATCH"));
}

void test_rate() {
    // Stateful, identity, Euler, tau_m = 10, dt = 1: z += (j + j_td) / 10, zF = z.
    ngc::Cell r = ngc::Cell::rate("z", 2, 1, 10.0);
    EXPECT(r.type() == "RateCell");
    EXPECT((r.compartment_names() == std::vector<std::string>{"j", "j_td", "z", "zF"}));
    std::vector<float> j = {1, 2}, zf(2);
    r.bind("j", j);
    r.bind("zF", zf);
    r.set("j_td", std::vector<float>{0.5f, 0});
    r.advance(0.0, 1.0);
    EXPECT(std::fabs(zf[0] - 0.15f) < 1e-7f && std::fabs(zf[1] - 0.2f) < 1e-7f);
    EXPECT(r.get<float>("z") == zf);
    EXPECT_ERROR(NGC_ERR_NOT_SUPPORTED, "no loss", (void)r.loss());
    // tanh: the drive is j * tanh'(z) (z before the step), written back into j (bound here).
    ngc::Cell t = ngc::Cell::rate("t", 2, 1, 10.0, "gaussian", 0.0, "tanh");
    std::vector<float> tj = {1, 2};
    t.bind("j", tj);
    t.advance();  // z was 0: tanh'(0) = 1, j unchanged
    EXPECT((tj == std::vector<float>{1, 2}));
    t.advance();  // z = [0.1 0.2]: j *= 1 - tanh(z)^2
    const double want0 = 1.0 - std::tanh(0.1) * std::tanh(0.1);
    EXPECT(std::fabs(tj[0] - want0) < 1e-6 && std::fabs(t.get<float>("z")[0] - (0.1 + 0.1 * want0)) < 1e-6);
    EXPECT(std::fabs(t.get<float>("zF")[1] - std::tanh(t.get<float>("z")[1])) < 1e-6);
    // A Gaussian prior's leak, output_scale, float64: z += (-0.5 z + j) / 10, zF = 2 z.
    ngc::Cell g = ngc::Cell::rate("g", 2, 1, 10.0, "gaussian", 0.5, "identity", 2.0, "none", 0.0,
                                  "euler", 1.0, true, ngc::Dtype::F64);
    g.set("z", std::vector<double>{1, -2});
    g.advance();
    const std::vector<double> z = g.get<double>("z"), gz = g.get<double>("zF");
    EXPECT(std::fabs(z[0] - 0.95) < 1e-15 && std::fabs(z[1] + 1.9) < 1e-15);
    EXPECT(gz[0] == 2 * z[0] && gz[1] == 2 * z[1]);
    // Stateless (tau_m = 0): z = j + j_td, zF = relu(z), j not written.
    ngc::Cell s = ngc::Cell::rate("s", 2, 1, 0.0, "gaussian", 0.0, "relu");
    s.set("j", std::vector<float>{-1, 2});
    s.set("j_td", std::vector<float>{0.5f, 0.25f});
    s.advance();
    EXPECT((s.get<float>("z") == std::vector<float>{-0.5f, 2.25f}) &&
           (s.get<float>("zF") == std::vector<float>{0, 2.25f}) && (s.get<float>("j") == std::vector<float>{-1, 2}));
    // 4-D, reset, and the names it refuses.
    ngc::Cell img = ngc::Cell::rate("img", 6, 2, 5.0, "gaussian", 0.0, "identity", 1.0, "none", 0.0, "euler",
                                    1.0, true, ngc::Dtype::F32, std::array<std::size_t, 3>{1, 2, 3});
    EXPECT((img.compartment_dims("z") == std::vector<std::size_t>{2, 1, 2, 3}));
    img.set("j", std::vector<float>(12, 5.0f));
    img.advance();
    EXPECT(img.get<float>("zF")[11] == 1.0f);
    img.reset();
    EXPECT(img.get<float>("z")[11] == 0.0f && (img.compartment_dims("z") == std::vector<std::size_t>{2, 1, 2, 3}));
    EXPECT_ERROR(NGC_ERR_INVALID_ARGUMENT, "\"nope\"", (void)ngc::Cell::rate("x", 2, 1, 1.0, "nope"));
    EXPECT_ERROR(NGC_ERR_INVALID_ARGUMENT, "cauchy_threshold",
                 (void)ngc::Cell::rate("x", 2, 1, 1.0, "gaussian", 0.0, "identity", 1.0, "cauchy_threshold"));
    EXPECT_ERROR(NGC_ERR_ZERO_SIZE, "", (void)ngc::Cell::rate("x", 0, 1, 1.0));
}
}  // namespace

int main() {
    try {
        test_metadata();
        test_bind_and_copy();
        test_errors();
        test_ownership();
        test_gaussian();
        test_laplacian();
        test_reward();
        test_set_shaped_errors();
        test_rate();
    } catch (const std::exception &e) {
        failed++;
        std::printf("FAIL: unexpected exception: %s\n", e.what());
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
