// ngc_cells.hpp -- a header-only C++17 wrapper over the C API in ngc_cells.h.
//
// It adds no behaviour of its own: every member calls one C function (or two, to
// size a buffer) and turns a status other than NGC_OK into an ngc::Error that
// carries the status and the library's message. (The one check of its own:
// set_shaped, whose C function takes untyped values, refuses values of the other
// dtype and a vector whose size is not the dims' product, as ngc::Error too.) What the C header says about
// ownership, bound buffers, threads and layout holds unchanged.
//
//   ngc::Cell cell = ngc::Cell::bernoulli_error("z0", 1);   // 1 unit, batch 1, float32
//   std::vector<float> p(1), target(1), dp(1);
//   cell.bind("p", p);                                        // zero copy, as ngc_cell_bind_f32
//   cell.bind("target", target);
//   cell.bind("dp", dp);
//   p[0] = 0.5f; target[0] = 1.0f;
//   cell.advance();                                           // dp[0], cell.loss() updated
//
// - ngc::Cell is move-only and frees its handle in its destructor.
// - bind() takes a pointer and a capacity, or a std::vector (its data() and size()).
//   The cell then reads and writes that memory in place: keep the vector alive and do
//   not resize it (a resize may move its storage) until unbind(), a re-bind or the
//   cell's destruction. Binding a temporary vector does not compile.
// - set()/get() copy in and out (exactly the compartment's element count).
// - float overloads call the _f32 functions and double overloads the _f64 ones, so a
//   buffer of the wrong type for the cell's dtype is an ngc::Error
//   (NGC_ERR_DTYPE_MISMATCH), as in C.
// - One static factory per cell type (bernoulli_error, gaussian_error, laplacian_error,
//   reward_error, rate); every other member works on any type. set_shaped() gives a
//   compartment new dims (a per-unit Sigma, say), row-major as in ngc-learn.
//
// Compile with -std=c++17 (or later) and link as for C (-lngc_cells, or the static
// library plus rustc's native-static-libs).
#ifndef NGC_CELLS_HPP
#define NGC_CELLS_HPP

#include <array>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ngc_cells.h"

namespace ngc {

/// The name of a status code ("NGC_ERR_OVERLAP", ...), as ngc_status_str.
inline const char *status_str(NgcStatus status) noexcept { return ngc_status_str(status); }

/// The library's version, "ngc-cells/MAJOR.MINOR.PATCH", as ngc_version.
inline const char *version() noexcept { return ngc_version(); }

/// This thread's last error message, as ngc_last_error_message.
inline std::string last_error_message() {
    std::string msg(ngc_last_error_message(nullptr, 0), '\0');
    if (!msg.empty()) ngc_last_error_message(&msg[0], msg.size() + 1);
    return msg;
}

/// A failed call: the status it returned and the library's message about it.
/// what() is "NGC_ERR_NAME: message".
class Error : public std::runtime_error {
  public:
    Error(NgcStatus status, std::string message)
        : std::runtime_error(std::string(ngc_status_str(status)) + ": " + message),
          status_(status),
          message_(std::move(message)) {}

    /// The status code (NGC_ERR_*).
    NgcStatus status() const noexcept { return status_; }
    /// Its name, "NGC_ERR_OVERLAP" etc. (static string).
    const char *status_name() const noexcept { return ngc_status_str(status_); }
    /// The library's message, e.g. "ngc_cell_bind: compartment 'p' holds 2 elements, ...".
    const std::string &message() const noexcept { return message_; }

  private:
    NgcStatus status_;
    std::string message_;
};

/// Throws ngc::Error unless status is NGC_OK. Call it right after the failing call
/// (the message is per thread and the next failure replaces it).
inline void check(NgcStatus status) {
    if (status != NGC_OK) throw Error(status, last_error_message());
}

/// The element type of a cell.
enum class Dtype : NgcDtype { F32 = NGC_DTYPE_F32, F64 = NGC_DTYPE_F64 };

/// One cell, owning its NgcCell handle. Move-only; the destructor frees the handle
/// (bound buffers are not touched and stay yours). A moved-from Cell holds no
/// handle: calls on it throw ngc::Error(NGC_ERR_NULL_POINTER), as the C API does.
class Cell {
  public:
    /// ngc-learn's BernoulliErrorCell(name, n_units, batch_size, input_logits, shape),
    /// as ngc_bernoulli_error_cell_new. `shape` is (H, W, C), or none for (batch, n_units).
    static Cell bernoulli_error(const std::string &name, std::size_t n_units,
                                std::size_t batch_size = 1, bool input_logits = false,
                                Dtype dtype = Dtype::F32,
                                const std::optional<std::array<std::size_t, 3>> &shape = std::nullopt) {
        NgcCell *cell = nullptr;
        check(ngc_bernoulli_error_cell_new(name.c_str(), n_units, batch_size, input_logits,
                                           shape ? shape->data() : nullptr,
                                           static_cast<NgcDtype>(dtype), &cell));
        return Cell(cell);
    }

    /// ngc-learn's GaussianErrorCell(name, n_units, batch_size, sigma, shape), as
    /// ngc_gaussian_error_cell_new. `sigma` is the variance itself (not squared): the
    /// compartment "Sigma" starts as shape (1, 1) holding it; set_shaped("Sigma", ...)
    /// gives it a per-unit, per-sample, full or 0-d shape.
    static Cell gaussian_error(const std::string &name, std::size_t n_units,
                               std::size_t batch_size = 1, double sigma = 1.0,
                               Dtype dtype = Dtype::F32,
                               const std::optional<std::array<std::size_t, 3>> &shape = std::nullopt) {
        NgcCell *cell = nullptr;
        check(ngc_gaussian_error_cell_new(name.c_str(), n_units, batch_size, sigma,
                                          shape ? shape->data() : nullptr,
                                          static_cast<NgcDtype>(dtype), &cell));
        return Cell(cell);
    }

    /// ngc-learn's LaplacianErrorCell(name, n_units, batch_size, scale, shape), as
    /// ngc_laplacian_error_cell_new ("Scale" starts as shape (1, 1) holding `scale`).
    static Cell laplacian_error(const std::string &name, std::size_t n_units,
                                std::size_t batch_size = 1, double scale = 1.0,
                                Dtype dtype = Dtype::F32,
                                const std::optional<std::array<std::size_t, 3>> &shape = std::nullopt) {
        NgcCell *cell = nullptr;
        check(ngc_laplacian_error_cell_new(name.c_str(), n_units, batch_size, scale,
                                           shape ? shape->data() : nullptr,
                                           static_cast<NgcDtype>(dtype), &cell));
        return Cell(cell);
    }

    /// ngc-learn's RewardErrorCell(name, n_units, alpha, ema_window_len,
    /// use_online_predictor, batch_size), as ngc_reward_error_cell_new (the arguments in
    /// the C order). evolve() runs its end-of-episode update. No shape.
    static Cell reward_error(const std::string &name, std::size_t n_units, std::size_t batch_size,
                             double alpha, std::size_t ema_window_len = 10,
                             bool use_online_predictor = true, Dtype dtype = Dtype::F32) {
        NgcCell *cell = nullptr;
        check(ngc_reward_error_cell_new(name.c_str(), n_units, batch_size, alpha, ema_window_len,
                                        use_online_predictor, static_cast<NgcDtype>(dtype), &cell));
        return Cell(cell);
    }

    /// ngc-learn's RateCell(name, n_units, tau_m, prior=(prior, prior_leak), act_fx,
    /// output_scale, threshold=(threshold, threshold_lambda), integration_type,
    /// batch_size, resist_scale, shape, is_stateful), as ngc_rate_cell_new (the
    /// arguments in the C order; the names are the C header's). Stateless when tau_m <= 0
    /// or !is_stateful. A stateful advance writes j back (j * fx'(z) * resist_scale).
    static Cell rate(const std::string &name, std::size_t n_units, std::size_t batch_size,
                     double tau_m, const std::string &prior = "gaussian", double prior_leak = 0.0,
                     const std::string &act_fx = "identity", double output_scale = 1.0,
                     const std::string &threshold = "none", double threshold_lambda = 0.0,
                     const std::string &integration = "euler", double resist_scale = 1.0,
                     bool is_stateful = true, Dtype dtype = Dtype::F32,
                     const std::optional<std::array<std::size_t, 3>> &shape = std::nullopt) {
        NgcCell *cell = nullptr;
        check(ngc_rate_cell_new(name.c_str(), n_units, batch_size, tau_m, prior.c_str(), prior_leak,
                                act_fx.c_str(), output_scale, threshold.c_str(), threshold_lambda,
                                integration.c_str(), resist_scale, is_stateful,
                                shape ? shape->data() : nullptr, static_cast<NgcDtype>(dtype), &cell));
        return Cell(cell);
    }

    /// Takes ownership of a handle from a ngc_*_new function (NULL gives an empty Cell).
    explicit Cell(NgcCell *owned) noexcept : cell_(owned) {}
    Cell(const Cell &) = delete;
    Cell &operator=(const Cell &) = delete;
    Cell(Cell &&other) noexcept : cell_(std::exchange(other.cell_, nullptr)) {}
    Cell &operator=(Cell &&other) noexcept {
        if (this != &other) {
            ngc_cell_free(cell_);
            cell_ = std::exchange(other.cell_, nullptr);
        }
        return *this;
    }
    ~Cell() { ngc_cell_free(cell_); }

    /// The C handle, still owned by this Cell (for calls the wrapper does not cover).
    NgcCell *get() noexcept { return cell_; }
    const NgcCell *get() const noexcept { return cell_; }
    /// Gives up ownership: the caller must ngc_cell_free the returned handle.
    NgcCell *release() noexcept { return std::exchange(cell_, nullptr); }
    /// Whether this Cell holds a handle.
    explicit operator bool() const noexcept { return cell_ != nullptr; }

    // --- Binding your arrays (zero copy) -------------------------------------------

    /// ngc_cell_bind_f32: `data[0 .. capacity)` becomes compartment `name`'s storage.
    void bind(const std::string &name, float *data, std::size_t capacity) {
        check(ngc_cell_bind_f32(cell_, name.c_str(), data, capacity));
    }
    /// ngc_cell_bind_f64.
    void bind(const std::string &name, double *data, std::size_t capacity) {
        check(ngc_cell_bind_f64(cell_, name.c_str(), data, capacity));
    }
    /// Binds v.data() with capacity v.size(). Do not resize v while it is bound.
    void bind(const std::string &name, std::vector<float> &v) { bind(name, v.data(), v.size()); }
    void bind(const std::string &name, std::vector<double> &v) { bind(name, v.data(), v.size()); }
    /// A temporary would be freed while bound.
    void bind(const std::string &, std::vector<float> &&) = delete;
    void bind(const std::string &, std::vector<double> &&) = delete;

    /// ngc_cell_unbind: the cell copies the values and stops using your array.
    void unbind(const std::string &name) { check(ngc_cell_unbind(cell_, name.c_str())); }

    /// ngc_cell_is_bound.
    bool is_bound(const std::string &name) const {
        bool bound = false;
        check(ngc_cell_is_bound(cell_, name.c_str(), &bound));
        return bound;
    }

    // --- Copying in and out ----------------------------------------------------------

    /// ngc_cell_set_f32 / _f64: `len` must be the compartment's element count.
    void set(const std::string &name, const float *src, std::size_t len) {
        check(ngc_cell_set_f32(cell_, name.c_str(), src, len));
    }
    void set(const std::string &name, const double *src, std::size_t len) {
        check(ngc_cell_set_f64(cell_, name.c_str(), src, len));
    }
    void set(const std::string &name, const std::vector<float> &v) { set(name, v.data(), v.size()); }
    void set(const std::string &name, const std::vector<double> &v) { set(name, v.data(), v.size()); }

    /// ngc_cell_get_f32 / _f64: `len` must be the compartment's element count.
    void get(const std::string &name, float *dst, std::size_t len) const {
        check(ngc_cell_get_f32(cell_, name.c_str(), dst, len));
    }
    void get(const std::string &name, double *dst, std::size_t len) const {
        check(ngc_cell_get_f64(cell_, name.c_str(), dst, len));
    }
    /// Into v.data(), v.size() elements (v's size must be the element count).
    void get(const std::string &name, std::vector<float> &v) const { get(name, v.data(), v.size()); }
    void get(const std::string &name, std::vector<double> &v) const { get(name, v.data(), v.size()); }
    /// A new vector of the compartment's element count: get<float>("dp").
    template <typename T>
    std::vector<T> get(const std::string &name) const {
        std::vector<T> v(compartment_len(name));
        get(name, v);
        return v;
    }

    /// ngc_cell_set_shaped: new dims (row-major, as in ngc-learn; rank 0 to 4, {} for a
    /// 0-d value) and prod(dims) values from `src`. A parameter ("Sigma", "Scale") takes
    /// any shape that broadcasts against the state; dSigma/dScale and L follow it. Any
    /// other compartment takes only its current dims (NGC_ERR_SHAPE_MISMATCH otherwise).
    /// The C function takes untyped values, so the wrapper checks the cell's dtype first:
    /// float values for a float64 cell (or the reverse) are NGC_ERR_DTYPE_MISMATCH.
    void set_shaped(const std::string &name, const float *src, const std::vector<std::size_t> &dims) {
        require_dtype(NGC_DTYPE_F32);
        check(ngc_cell_set_shaped(cell_, name.c_str(), src, dims.data(), dims.size()));
    }
    void set_shaped(const std::string &name, const double *src, const std::vector<std::size_t> &dims) {
        require_dtype(NGC_DTYPE_F64);
        check(ngc_cell_set_shaped(cell_, name.c_str(), src, dims.data(), dims.size()));
    }
    /// The vector must hold exactly prod(dims) values (NGC_ERR_LENGTH_MISMATCH otherwise):
    /// set_shaped("Sigma", std::vector<float>{1, 2, 4}, {1, 3}) gives a per-unit Sigma.
    void set_shaped(const std::string &name, const std::vector<float> &v, const std::vector<std::size_t> &dims) {
        require_count(v.size(), dims);
        set_shaped(name, v.data(), dims);
    }
    void set_shaped(const std::string &name, const std::vector<double> &v, const std::vector<std::size_t> &dims) {
        require_count(v.size(), dims);
        set_shaped(name, v.data(), dims);
    }

    // --- Dynamics ---------------------------------------------------------------------

    /// ngc_cell_advance: ngc-learn's advance_state(dt) (t is not used; the error cells do
    /// not use dt either).
    void advance(double t = 0.0, double dt = 1.0) { check(ngc_cell_advance(cell_, t, dt)); }
    /// ngc_cell_evolve: ngc-learn's evolve(dt) (RewardErrorCell's end-of-episode update);
    /// does nothing for a type without one.
    void evolve(double t = 0.0, double dt = 1.0) { check(ngc_cell_evolve(cell_, t, dt)); }
    /// ngc_cell_reset: rest values at the constructor's batch size.
    void reset() { check(ngc_cell_reset(cell_)); }
    /// ngc_cell_batched_reset: rest values at batch size `batch_size`.
    void batched_reset(std::size_t batch_size) { check(ngc_cell_batched_reset(cell_, batch_size)); }
    /// ngc_cell_loss: the log-likelihood L of the last advance, as a double.
    /// NGC_ERR_NOT_SUPPORTED for a cell without a one-element L (a Gaussian cell with a
    /// per-unit Sigma, a RewardErrorCell): read get<float>("L") then.
    double loss() const {
        double l = 0.0;
        check(ngc_cell_loss(cell_, &l));
        return l;
    }
    /// ngc_cell_set_threads / ngc_cell_threads.
    void set_threads(std::size_t threads) { check(ngc_cell_set_threads(cell_, threads)); }
    std::size_t threads() const {
        std::size_t n = 0;
        check(ngc_cell_threads(cell_, &n));
        return n;
    }

    // --- Metadata ----------------------------------------------------------------------

    Dtype dtype() const {
        NgcDtype d = 0;
        check(ngc_cell_dtype(cell_, &d));
        return static_cast<Dtype>(d);
    }
    std::size_t batch_size() const {
        std::size_t n = 0;
        check(ngc_cell_batch_size(cell_, &n));
        return n;
    }
    std::size_t n_units() const {
        std::size_t n = 0;
        check(ngc_cell_n_units(cell_, &n));
        return n;
    }
    /// ngc-learn's class name, "BernoulliErrorCell", "GaussianErrorCell", ... (ngc_cell_type).
    std::string type() const {
        const char *t = nullptr;
        check(ngc_cell_type(cell_, &t));
        return t;
    }
    /// The name given at creation (ngc_cell_name).
    std::string name() const { return text(&ngc_cell_name); }
    /// ngc-learn's help(), corrected, as one line of JSON (ngc_cell_metadata_json).
    std::string metadata_json() const { return text(&ngc_cell_metadata_json); }
    /// The compartments' names in the library's order (for a BernoulliErrorCell: p, target,
    /// modulator, mask, L, dp, dtarget; each constructor in ngc_cells.h lists its type's).
    std::vector<std::string> compartment_names() const {
        std::size_t count = 0;
        check(ngc_cell_compartment_count(cell_, &count));
        std::vector<std::string> names;
        names.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            const char *n = nullptr;
            check(ngc_cell_compartment_name(cell_, i, &n));
            names.emplace_back(n);
        }
        return names;
    }
    /// ngc_cell_compartment_len: the product of the compartment's dims (1 for a scalar L).
    std::size_t compartment_len(const std::string &name) const {
        std::size_t len = 0;
        check(ngc_cell_compartment_len(cell_, name.c_str(), &len));
        return len;
    }
    /// ngc_cell_compartment_dims, row-major as in ngc-learn: {batch, n_units},
    /// {batch, H, W, C}, {} for a scalar L, a parameter's own dims ({1, 1}, {n_units}, ...).
    std::vector<std::size_t> compartment_dims(const std::string &name) const {
        std::array<std::size_t, 4> dims{};
        std::size_t ndim = 0;
        check(ngc_cell_compartment_dims(cell_, name.c_str(), dims.data(), dims.size(), &ndim));
        return std::vector<std::size_t>(dims.begin(), dims.begin() + static_cast<std::ptrdiff_t>(ndim));
    }

  private:
    // set_shaped's C function is untyped: refuse values of the other dtype here (a NULL
    // handle is left to the C call, which reports it).
    void require_dtype(NgcDtype want) const {
        if (cell_ == nullptr) return;
        NgcDtype have = 0;
        check(ngc_cell_dtype(cell_, &have));
        if (have != want)
            throw Error(NGC_ERR_DTYPE_MISMATCH,
                        std::string("ngc::Cell::set_shaped: the cell computes in ") +
                            (have == NGC_DTYPE_F32 ? "float32" : "float64") + ", but " +
                            (want == NGC_DTYPE_F32 ? "float32" : "float64") + " data was given");
    }

    // A vector given to set_shaped must hold exactly prod(dims) values (a zero dim is
    // left to the C call, which refuses it with NGC_ERR_ZERO_SIZE).
    static void require_count(std::size_t have, const std::vector<std::size_t> &dims) {
        std::size_t want = 1;
        for (std::size_t d : dims) {
            if (d == 0) return;
            if (want > static_cast<std::size_t>(-1) / d)
                throw Error(NGC_ERR_SIZE_OVERFLOW, "ngc::Cell::set_shaped: the dims' product overflows");
            want *= d;
        }
        if (have != want)
            throw Error(NGC_ERR_LENGTH_MISMATCH, "ngc::Cell::set_shaped: the vector holds " +
                                                     std::to_string(have) + " values, the dims " +
                                                     std::to_string(want));
    }

    using TextFn = NgcStatus (*)(const NgcCell *, char *, std::size_t, std::size_t *);

    // Size query, then the copy (the snprintf-style protocol of the C header).
    std::string text(TextFn fn) const {
        std::size_t len = 0;
        check(fn(cell_, nullptr, 0, &len));
        std::string s(len + 1, '\0');
        check(fn(cell_, &s[0], s.size(), &len));
        s.resize(len);
        return s;
    }

    NgcCell *cell_ = nullptr;
};

}  // namespace ngc

#endif  // NGC_CELLS_HPP
