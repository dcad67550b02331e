"""
    NgcCells

ngc-learn's neuron cells as a native library (ngc-cells), from Julia: every call goes
to the C API (`include/ngc_cells.h`) with `@ccall`.

    using NgcCells
    cell = BernoulliErrorCell("z0", 1)            # 1 unit, batch 1, Float32
    p = zeros(Float32, 1, 1); dp = zeros(Float32, 1, 1)
    bind!(cell, "p", p); bind!(cell, "dp", dp)    # zero copy: the cell works in p and dp
    p[1] = 0.25f0; advance!(cell); dp[1], loss(cell)
    close(cell)                                   # or let the finalizer do it

- A `Cell` holds the C handle; a finalizer frees it, and `close` frees it at once
  (idempotent). Every array given to `bind!` is kept referenced by the `Cell` until
  `unbind!`, a re-bind of that compartment, or `close`, so the garbage collector
  cannot free memory the cell still writes. Do not `resize!` a bound vector (that may
  move its memory).
- Column-major arrays bind as they are: every compartment of a cell has one shape and
  the math is element-wise. ngc-learn's `(batch, n_units)` is a Julia
  `(n_units, batch)` array (`getvalues` returns that shape), `(batch, H, W, C)` is
  `(C, W, H, batch)`; any array with the right number of elements works.
- A failed call throws `NgcError` (status code, its name, the library's message).
- The shared library is found when the package loads: the environment variable
  `NGC_CELLS_LIB` (a path), else the preference `libngc_cells` (a path, set with
  `NgcCells.set_library!`), else the system loader's `libngc_cells` (after
  `./install.sh`, or with the library's folder on `LD_LIBRARY_PATH`).
  `NgcCells.library()` says which file and why.

Julia cannot be installed where this package is developed: its calls are checked
against the C header by `cargo test` (`tests/julia_ccall.rs`), but not run there.
"""
module NgcCells

using Libdl: Libdl
using Preferences: load_preference, set_preferences!, delete_preferences!

export Cell, BernoulliErrorCell, GaussianErrorCell, LaplacianErrorCell, RewardErrorCell,
       RateCell, evolve!, setshaped!, NgcError, bind!, unbind!, isbound, setvalues!, getvalues,
       getvalues!, advance!, reset!, batched_reset!, loss, batch_size, n_units, compartments,
       compartment_len, compartment_dims, celltype, cellname, metadata_json

# --- Finding the library ----------------------------------------------------------------

"The environment variable that names the library's path (it wins over the preference)."
const LIBRARY_ENV = "NGC_CELLS_LIB"
"The preference (`LocalPreferences.toml`, `[NgcCells]`) that names the library's path."
const LIBRARY_PREFERENCE = "libngc_cells"
"What the system loader is asked for when neither is set."
const LIBRARY_DEFAULT = "libngc_cells"

# The library and how it was chosen; fixed by __init__ before any call.
const LIBRARY = Ref{String}(LIBRARY_DEFAULT)
const LIBRARY_SOURCE = Ref{String}("the system loader")

# Every @ccall names its library as `libngc()`: a library computed at run time, which
# Julia evaluates when the call first runs and then caches per call site (the manual's
# "Non-constant Function Specifications"). It is set in __init__ and never changes.
libngc() = LIBRARY[]

function find_library()
    from_env = get(ENV, LIBRARY_ENV, "")
    isempty(from_env) || return from_env, "the environment variable $LIBRARY_ENV"
    pref = load_preference(@__MODULE__, LIBRARY_PREFERENCE, nothing)
    if pref isa AbstractString && !isempty(pref)
        return String(pref), "the preference \"$LIBRARY_PREFERENCE\" (LocalPreferences.toml)"
    end
    return LIBRARY_DEFAULT, "the system loader"
end

"""
    NgcCells.library()

The shared library this session uses and where that choice came from:
`(path = "...", source = "the environment variable NGC_CELLS_LIB")`.
"""
library() = (path = LIBRARY[], source = LIBRARY_SOURCE[])

"""
    NgcCells.set_library!(path)
    NgcCells.set_library!(nothing)

Records `path` as the preference `libngc_cells` of the active project
(`LocalPreferences.toml`), or removes it. It takes effect in the next Julia session;
`NGC_CELLS_LIB` still wins over it.
"""
function set_library!(path::Union{AbstractString,Nothing})
    if path === nothing
        delete_preferences!(@__MODULE__, LIBRARY_PREFERENCE; force = true)
    else
        isfile(path) || throw(ArgumentError("no file at $path"))
        set_preferences!(@__MODULE__, LIBRARY_PREFERENCE => abspath(path); force = true)
    end
    @info "NgcCells: the library preference is set; restart Julia to use it" path
    return nothing
end

# Versions that share an ABI (the soname's series): MAJOR from 1.0 on, 0.MINOR before.
same_abi(a::VersionNumber, b::VersionNumber) =
    a.major == b.major && (a.major > 0 || (a.minor == b.minor && (a.minor > 0 || a.patch == b.patch)))

function __init__()
    path, source = find_library()
    LIBRARY[] = path
    LIBRARY_SOURCE[] = source
    if Libdl.dlopen(path; throw_error = false) === nothing
        @warn """NgcCells: cannot load the ngc-cells library "$path" (from $source). Build it \
                 (`cargo build --release`, or `./install.sh`) and point NgcCells at it: \
                 ENV["$LIBRARY_ENV"] = "/path/to/libngc_cells.so" before `using NgcCells`, or \
                 NgcCells.set_library!("/path/to/libngc_cells.so") once, or put its folder on the \
                 system loader's path."""
        return
    end
    lib = VersionNumber(last(split(version(), '/')))
    pkg = pkgversion(@__MODULE__)
    if pkg !== nothing && !(same_abi(lib, pkg) && lib >= pkg)
        @warn "NgcCells $pkg expects an ngc-cells library of the same ABI, at least $pkg; \"$path\" is $lib"
    end
    return
end

# --- The header's constants -------------------------------------------------------------
# The numbers are part of the ABI; tests/julia_ccall.rs checks them against the header.
const NGC_DTYPE_F32 = Cint(1)
const NGC_DTYPE_F64 = Cint(2)
const NGC_OK = Cint(0)
const NGC_ERR_NULL_POINTER = Cint(1)
const NGC_ERR_MISALIGNED_POINTER = Cint(2)
const NGC_ERR_INVALID_HANDLE = Cint(3)
const NGC_ERR_INVALID_ARGUMENT = Cint(4)
const NGC_ERR_INVALID_DTYPE = Cint(5)
const NGC_ERR_DTYPE_MISMATCH = Cint(6)
const NGC_ERR_UNKNOWN_COMPARTMENT = Cint(7)
const NGC_ERR_ZERO_SIZE = Cint(8)
const NGC_ERR_SIZE_OVERFLOW = Cint(9)
const NGC_ERR_CAPACITY_TOO_SMALL = Cint(10)
const NGC_ERR_LENGTH_MISMATCH = Cint(11)
const NGC_ERR_OVERLAP = Cint(12)
const NGC_ERR_NOT_BOUND = Cint(13)
const NGC_ERR_ALLOCATION = Cint(14)
const NGC_ERR_INDEX_OUT_OF_RANGE = Cint(15)
const NGC_ERR_BUFFER_TOO_SMALL = Cint(16)
const NGC_ERR_NOT_SUPPORTED = Cint(17)
const NGC_ERR_SHAPE_MISMATCH = Cint(18)
const NGC_ERR_PANIC = Cint(100)
const NGC_ERR_INTERNAL = Cint(101)

# --- Errors -----------------------------------------------------------------------------

"""
    NgcError(status, name, msg)

A failed call: `status` is the `NGC_ERR_*` code, `name` its name
(`"NGC_ERR_OVERLAP"`), `msg` the library's message.
"""
struct NgcError <: Exception
    status::Cint
    name::String
    msg::String
end

Base.showerror(io::IO, e::NgcError) = print(io, "NgcError: ", e.name, " (", e.status, "): ", e.msg)

"The library's version, `\"ngc-cells/MAJOR.MINOR.PATCH\"`."
version() = unsafe_string(@ccall libngc().ngc_version()::Cstring)

"The name of a status code, e.g. `\"NGC_ERR_OVERLAP\"`."
status_str(status::Integer) = unsafe_string(@ccall libngc().ngc_status_str(status::Cint)::Cstring)

"This thread's last error message (see `ngc_last_error_message`)."
function last_error_message()
    n = @ccall libngc().ngc_last_error_message(C_NULL::Ptr{UInt8}, 0::Csize_t)::Csize_t
    buf = Vector{UInt8}(undef, n + 1)
    @ccall libngc().ngc_last_error_message(buf::Ptr{UInt8}, length(buf)::Csize_t)::Csize_t
    return String(resize!(buf, n))
end

# Throws NgcError unless `status` is NGC_OK. Called right after the call that failed:
# the message is per thread, and no task switch happens in between.
@inline function check(status::Cint)
    status == NGC_OK || throw_ngc_error(status)
    return nothing
end

@noinline throw_ngc_error(status::Cint) =
    throw(NgcError(status, status_str(status), last_error_message()))

# --- Cells ------------------------------------------------------------------------------

"""
    Cell

One cell of the library, holding its C handle. Create one with a constructor named
after ngc-learn's class (`BernoulliErrorCell`, ...). `close(cell)` frees it (a second
`close` does nothing); otherwise the garbage collector's finalizer does. Calls on a
closed cell throw `NgcError` (`NGC_ERR_NULL_POINTER`).
"""
mutable struct Cell
    ptr::Ptr{Cvoid}
    # Every array bound to a compartment, by compartment name: referenced here so the
    # GC cannot free a buffer the cell still reads and writes.
    bound::Dict{String,Array}

    function Cell(ptr::Ptr{Cvoid})
        cell = new(ptr, Dict{String,Array}())
        finalizer(close, cell)
        return cell
    end
end

# Passing `cell::Ptr{Cvoid}` to @ccall gives the handle and keeps `cell` alive
# (so not finalized) for the duration of the call.
Base.unsafe_convert(::Type{Ptr{Cvoid}}, cell::Cell) = cell.ptr

"""
    close(cell::Cell)

Frees the cell now. Idempotent. Bound arrays are not touched and are released.
"""
function Base.close(cell::Cell)
    if cell.ptr != C_NULL
        @ccall libngc().ngc_cell_free(cell.ptr::Ptr{Cvoid})::Cvoid
        cell.ptr = C_NULL
    end
    empty!(cell.bound)
    return nothing
end

Base.isopen(cell::Cell) = cell.ptr != C_NULL

function Base.show(io::IO, cell::Cell)
    if isopen(cell)
        print(io, "NgcCells.Cell(", celltype(cell), " \"", cellname(cell), "\", ", eltype(cell),
              ", n_units=", n_units(cell), ", batch_size=", batch_size(cell), ")")
    else
        print(io, "NgcCells.Cell(closed)")
    end
end

# The constructors' common arguments.
dtype_code(dtype::Type) =
    dtype === Float32 ? NGC_DTYPE_F32 :
    dtype === Float64 ? NGC_DTYPE_F64 :
    throw(ArgumentError("dtype must be Float32 or Float64, not $dtype"))

# `shape` is `(H, W, C)` or `nothing`; the C side reads 3 entries, or takes NULL.
function shape_dims(shape)
    shape === nothing && return C_NULL
    length(shape) == 3 || throw(ArgumentError("shape must be (H, W, C) or nothing, not $shape"))
    return Csize_t[shape...]
end

# Runs a constructor's do-block form: the cell is closed at the end.
function with_cell(f::Function, cell::Cell)
    try
        return f(cell)
    finally
        close(cell)
    end
end

"""
    BernoulliErrorCell(name, n_units; batch_size=1, input_logits=false, shape=nothing, dtype=Float32)

ngc-learn's `BernoulliErrorCell(name, n_units, batch_size, input_logits, shape)`.
`shape` is `(H, W, C)` or `nothing`; `dtype` is `Float32` (ngc-learn's default) or
`Float64`. The do-block form closes the cell at the end:

    BernoulliErrorCell("z0", 10) do cell ... end
"""
function BernoulliErrorCell(name::AbstractString, n_units::Integer; batch_size::Integer = 1,
                            input_logits::Bool = false, shape = nothing, dtype::Type = Float32)
    code = dtype_code(dtype)
    dims = shape_dims(shape)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(@ccall libngc().ngc_bernoulli_error_cell_new(String(name)::Cstring, n_units::Csize_t,
                                                       batch_size::Csize_t, input_logits::Bool,
                                                       dims::Ptr{Csize_t}, code::Cint,
                                                       out::Ptr{Ptr{Cvoid}})::Cint)
    return Cell(out[])
end

BernoulliErrorCell(f::Function, args...; kwargs...) =
    with_cell(f, BernoulliErrorCell(args...; kwargs...))

"""
    GaussianErrorCell(name, n_units; batch_size=1, sigma=1.0, shape=nothing, dtype=Float32)

ngc-learn's `GaussianErrorCell(name, n_units, batch_size, sigma, shape)`: `sigma` is
the variance Σ itself (the compartment `"Sigma"`, shape `(1, 1)`; `setshaped!` gives it
another shape).
"""
function GaussianErrorCell(name::AbstractString, n_units::Integer; batch_size::Integer = 1,
                           sigma::Real = 1.0, shape = nothing, dtype::Type = Float32)
    code = dtype_code(dtype)
    dims = shape_dims(shape)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(@ccall libngc().ngc_gaussian_error_cell_new(String(name)::Cstring, n_units::Csize_t,
                                                      batch_size::Csize_t, sigma::Cdouble,
                                                      dims::Ptr{Csize_t}, code::Cint,
                                                      out::Ptr{Ptr{Cvoid}})::Cint)
    return Cell(out[])
end

GaussianErrorCell(f::Function, args...; kwargs...) =
    with_cell(f, GaussianErrorCell(args...; kwargs...))

"""
    LaplacianErrorCell(name, n_units; batch_size=1, scale=1.0, shape=nothing, dtype=Float32)

ngc-learn's `LaplacianErrorCell(name, n_units, batch_size, scale, shape)`.
"""
function LaplacianErrorCell(name::AbstractString, n_units::Integer; batch_size::Integer = 1,
                            scale::Real = 1.0, shape = nothing, dtype::Type = Float32)
    code = dtype_code(dtype)
    dims = shape_dims(shape)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(@ccall libngc().ngc_laplacian_error_cell_new(String(name)::Cstring, n_units::Csize_t,
                                                       batch_size::Csize_t, scale::Cdouble,
                                                       dims::Ptr{Csize_t}, code::Cint,
                                                       out::Ptr{Ptr{Cvoid}})::Cint)
    return Cell(out[])
end

LaplacianErrorCell(f::Function, args...; kwargs...) =
    with_cell(f, LaplacianErrorCell(args...; kwargs...))

"""
    RewardErrorCell(name, n_units, alpha; ema_window_len=10, use_online_predictor=true,
                    batch_size=1, dtype=Float32)

ngc-learn's `RewardErrorCell(name, n_units, alpha, ema_window_len, use_online_predictor,
batch_size)`. `evolve!` runs its end-of-episode update.
"""
function RewardErrorCell(name::AbstractString, n_units::Integer, alpha::Real;
                         ema_window_len::Integer = 10, use_online_predictor::Bool = true,
                         batch_size::Integer = 1, dtype::Type = Float32)
    code = dtype_code(dtype)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(@ccall libngc().ngc_reward_error_cell_new(String(name)::Cstring, n_units::Csize_t,
                                                    batch_size::Csize_t, alpha::Cdouble,
                                                    ema_window_len::Csize_t,
                                                    use_online_predictor::Bool, code::Cint,
                                                    out::Ptr{Ptr{Cvoid}})::Cint)
    return Cell(out[])
end

RewardErrorCell(f::Function, args...; kwargs...) =
    with_cell(f, RewardErrorCell(args...; kwargs...))

"""
    RateCell(name, n_units, tau_m; prior=("gaussian", 0.0), act_fx="identity",
             output_scale=1.0, threshold=("none", 0.0), integration_type="euler",
             batch_size=1, resist_scale=1.0, shape=nothing, is_stateful=true, dtype=Float32)

ngc-learn's `RateCell` (without the lateral pathway): `prior = (name, leak)`,
`threshold = (name, lambda)`, as ngc-learn takes them.
"""
function RateCell(name::AbstractString, n_units::Integer, tau_m::Real;
                  prior::Tuple{AbstractString,Real} = ("gaussian", 0.0),
                  act_fx::AbstractString = "identity", output_scale::Real = 1.0,
                  threshold::Tuple{AbstractString,Real} = ("none", 0.0),
                  integration_type::AbstractString = "euler", batch_size::Integer = 1,
                  resist_scale::Real = 1.0, shape = nothing, is_stateful::Bool = true,
                  dtype::Type = Float32)
    code = dtype_code(dtype)
    dims = shape_dims(shape)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(@ccall libngc().ngc_rate_cell_new(String(name)::Cstring, n_units::Csize_t,
                                            batch_size::Csize_t, tau_m::Cdouble,
                                            String(prior[1])::Cstring, prior[2]::Cdouble,
                                            String(act_fx)::Cstring, output_scale::Cdouble,
                                            String(threshold[1])::Cstring, threshold[2]::Cdouble,
                                            String(integration_type)::Cstring,
                                            resist_scale::Cdouble, is_stateful::Bool,
                                            dims::Ptr{Csize_t}, code::Cint,
                                            out::Ptr{Ptr{Cvoid}})::Cint)
    return Cell(out[])
end

RateCell(f::Function, args...; kwargs...) = with_cell(f, RateCell(args...; kwargs...))

# --- Binding (zero copy) ------------------------------------------------------------

"""
    bind!(cell, compartment, a::Array{Float32}) / bind!(cell, compartment, a::Array{Float64})

Makes `a` the storage of `compartment` (`"p"`, `"target"`, `"dp"`, ...; see
`compartments(cell)`): the cell reads and writes it in place, no copies. Its element
type must be the cell's (`NGC_ERR_DTYPE_MISMATCH` otherwise) and it must hold at least
the compartment's element count (`NGC_ERR_CAPACITY_TOO_SMALL`); its shape does not
matter. The cell keeps a reference to `a` until `unbind!`, a re-bind, or `close`.
Returns `a`.
"""
function bind!(cell::Cell, compartment::AbstractString, a::Array{Float32})
    name = String(compartment)
    check(@ccall libngc().ngc_cell_bind_f32(cell::Ptr{Cvoid}, name::Cstring, a::Ptr{Float32},
                                            length(a)::Csize_t)::Cint)
    cell.bound[name] = a
    return a
end

function bind!(cell::Cell, compartment::AbstractString, a::Array{Float64})
    name = String(compartment)
    check(@ccall libngc().ngc_cell_bind_f64(cell::Ptr{Cvoid}, name::Cstring, a::Ptr{Float64},
                                            length(a)::Csize_t)::Cint)
    cell.bound[name] = a
    return a
end

bind!(::Cell, ::AbstractString, a::AbstractArray) =
    throw(ArgumentError("bind! takes an Array{Float32} or Array{Float64} (contiguous, not a " *
                        "view), not a $(typeof(a)); setvalues! copies any real array"))

"""
    unbind!(cell, compartment)

The cell copies the compartment's current values and stops using (and referencing)
the bound array. `NGC_ERR_NOT_BOUND` if nothing is bound.
"""
function unbind!(cell::Cell, compartment::AbstractString)
    name = String(compartment)
    check(@ccall libngc().ngc_cell_unbind(cell::Ptr{Cvoid}, name::Cstring)::Cint)
    delete!(cell.bound, name)
    return cell
end

"Whether an array is bound to `compartment`."
function isbound(cell::Cell, compartment::AbstractString)
    out = Ref{Bool}(false)
    check(@ccall libngc().ngc_cell_is_bound(cell::Ptr{Cvoid}, String(compartment)::Cstring,
                                            out::Ptr{Bool})::Cint)
    return out[]
end

# --- Copies in and out ------------------------------------------------------------------

"""
    setvalues!(cell, compartment, a)

Copies `a` into the compartment (bound or not). `length(a)` must be the element
count (`NGC_ERR_LENGTH_MISMATCH`). An `Array` of the cell's element type is copied as
it is; any other real array (or a number, for every element) is converted to the
cell's element type first.
"""
function setvalues!(cell::Cell, compartment::AbstractString, a::AbstractArray{<:Real})
    T = eltype(cell)
    return set_copy!(cell, String(compartment), a isa Array{T} ? a : Array{T}(a))
end

setvalues!(cell::Cell, compartment::AbstractString, x::Real) =
    setvalues!(cell, compartment, fill(x, compartment_len(cell, compartment)))

function set_copy!(cell::Cell, name::String, a::Array{Float32})
    check(@ccall libngc().ngc_cell_set_f32(cell::Ptr{Cvoid}, name::Cstring, a::Ptr{Float32},
                                           length(a)::Csize_t)::Cint)
    return cell
end

function set_copy!(cell::Cell, name::String, a::Array{Float64})
    check(@ccall libngc().ngc_cell_set_f64(cell::Ptr{Cvoid}, name::Cstring, a::Ptr{Float64},
                                           length(a)::Csize_t)::Cint)
    return cell
end

"""
    getvalues!(a, cell, compartment)

Copies the compartment's values into `a` (`length(a)` must be the element count, the
element type the cell's).
"""
function getvalues!(a::Array{Float32}, cell::Cell, compartment::AbstractString)
    check(@ccall libngc().ngc_cell_get_f32(cell::Ptr{Cvoid}, String(compartment)::Cstring,
                                           a::Ptr{Float32}, length(a)::Csize_t)::Cint)
    return a
end

function getvalues!(a::Array{Float64}, cell::Cell, compartment::AbstractString)
    check(@ccall libngc().ngc_cell_get_f64(cell::Ptr{Cvoid}, String(compartment)::Cstring,
                                           a::Ptr{Float64}, length(a)::Csize_t)::Cint)
    return a
end

"""
    getvalues(cell, compartment)

A copy of the compartment's values as a new array of the cell's element type, in the
column-major shape: `(n_units, batch)`, or `(C, W, H, batch)` with a `shape`; a
0-dimensional array for `"L"`.
"""
function getvalues(cell::Cell, compartment::AbstractString)
    dims = compartment_dims(cell, compartment)
    return getvalues!(Array{eltype(cell)}(undef, Tuple(reverse(dims))), cell, compartment)
end

# --- Dynamics ------------------------------------------------------------------------------

"One step: ngc-learn's `advance_state` (`t` and `dt` as ngc-learn's cell uses them)."
function advance!(cell::Cell, t::Real = 0.0, dt::Real = 1.0)
    check(@ccall libngc().ngc_cell_advance(cell::Ptr{Cvoid}, t::Cdouble, dt::Cdouble)::Cint)
    return cell
end

"ngc-learn's `reset()`: rest values, at the batch size the cell was created with."
function reset!(cell::Cell)
    check(@ccall libngc().ngc_cell_reset(cell::Ptr{Cvoid})::Cint)
    return cell
end

"ngc-learn's `batched_reset(b)`: rest values at batch size `b` (bound arrays must hold it)."
function batched_reset!(cell::Cell, b::Integer)
    check(@ccall libngc().ngc_cell_batched_reset(cell::Ptr{Cvoid}, b::Csize_t)::Cint)
    return cell
end

"ngc-learn's `evolve(t, dt)` (RewardErrorCell's end-of-episode update); does nothing for cells without one."
function evolve!(cell::Cell, t::Real = 0.0, dt::Real = 1.0)
    check(@ccall libngc().ngc_cell_evolve(cell::Ptr{Cvoid}, t::Cdouble, dt::Cdouble)::Cint)
    return cell
end

"""
    setshaped!(cell, compartment, a)

Copies `a` into a compartment with `a`'s shape (rank 0 to 4; a Julia array of size
`(n, b)` is ngc-learn's `(b, n)`). A parameter (a GaussianErrorCell's `"Sigma"`, a
LaplacianErrorCell's `"Scale"`) takes any shape that broadcasts against the cell's;
any other compartment only its current shape. `NGC_ERR_SHAPE_MISMATCH` otherwise, and
nothing changes.
"""
function setshaped!(cell::Cell, compartment::AbstractString, a::AbstractArray{<:Real})
    T = eltype(cell)
    values = a isa Array{T} ? a : Array{T}(a)
    dims = Csize_t[reverse(size(values))...]   # ngc-learn's row-major dims
    check(@ccall libngc().ngc_cell_set_shaped(cell::Ptr{Cvoid}, String(compartment)::Cstring,
                                              values::Ptr{Cvoid}, dims::Ptr{Csize_t},
                                              ndims(values)::Csize_t)::Cint)
    return cell
end

setshaped!(cell::Cell, compartment::AbstractString, x::Real) =
    setshaped!(cell, compartment, fill(x))

"""
The log-likelihood `L` of the last step (nats, summed over every element), a `Float64`.
`NGC_ERR_NOT_SUPPORTED` where `L` is not one element (read it with `getvalues`).
"""
function loss(cell::Cell)
    out = Ref{Cdouble}(0.0)
    check(@ccall libngc().ngc_cell_loss(cell::Ptr{Cvoid}, out::Ptr{Cdouble})::Cint)
    return out[]
end

"Lets `advance!` use up to `n` threads on this (large) cell; results do not change."
function set_threads!(cell::Cell, n::Integer)
    check(@ccall libngc().ngc_cell_set_threads(cell::Ptr{Cvoid}, n::Csize_t)::Cint)
    return cell
end

function threads(cell::Cell)
    out = Ref{Csize_t}(0)
    check(@ccall libngc().ngc_cell_threads(cell::Ptr{Cvoid}, out::Ptr{Csize_t})::Cint)
    return Int(out[])
end

# --- Metadata --------------------------------------------------------------------------------

"The cell's element type, `Float32` or `Float64`."
function Base.eltype(cell::Cell)
    out = Ref{Cint}(0)
    check(@ccall libngc().ngc_cell_dtype(cell::Ptr{Cvoid}, out::Ptr{Cint})::Cint)
    return out[] == NGC_DTYPE_F64 ? Float64 : Float32
end

function batch_size(cell::Cell)
    out = Ref{Csize_t}(0)
    check(@ccall libngc().ngc_cell_batch_size(cell::Ptr{Cvoid}, out::Ptr{Csize_t})::Cint)
    return Int(out[])
end

function n_units(cell::Cell)
    out = Ref{Csize_t}(0)
    check(@ccall libngc().ngc_cell_n_units(cell::Ptr{Cvoid}, out::Ptr{Csize_t})::Cint)
    return Int(out[])
end

"The compartments' names, in the library's order."
function compartments(cell::Cell)
    count = Ref{Csize_t}(0)
    check(@ccall libngc().ngc_cell_compartment_count(cell::Ptr{Cvoid}, count::Ptr{Csize_t})::Cint)
    names = String[]
    for i in 0:(Int(count[]) - 1)
        out = Ref{Ptr{UInt8}}(C_NULL)
        check(@ccall libngc().ngc_cell_compartment_name(cell::Ptr{Cvoid}, i::Csize_t,
                                                        out::Ptr{Ptr{UInt8}})::Cint)
        push!(names, unsafe_string(out[]))  # a static string: never freed
    end
    return names
end

"The element count of a compartment (`batch * prod(shape)`, 1 for `\"L\"`)."
function compartment_len(cell::Cell, compartment::AbstractString)
    out = Ref{Csize_t}(0)
    check(@ccall libngc().ngc_cell_compartment_len(cell::Ptr{Cvoid}, String(compartment)::Cstring,
                                                   out::Ptr{Csize_t})::Cint)
    return Int(out[])
end

"ngc-learn's (row-major) dims of a compartment: `[batch, n_units]`, `[batch, H, W, C]`, `[]` for `\"L\"`."
function compartment_dims(cell::Cell, compartment::AbstractString)
    dims = zeros(Csize_t, 4)
    ndim = Ref{Csize_t}(0)
    check(@ccall libngc().ngc_cell_compartment_dims(cell::Ptr{Cvoid}, String(compartment)::Cstring,
                                                    dims::Ptr{Csize_t}, length(dims)::Csize_t,
                                                    ndim::Ptr{Csize_t})::Cint)
    return Int.(dims[1:ndim[]])
end

"The cell's type, ngc-learn's class name (`\"BernoulliErrorCell\"`)."
function celltype(cell::Cell)
    out = Ref{Ptr{UInt8}}(C_NULL)
    check(@ccall libngc().ngc_cell_type(cell::Ptr{Cvoid}, out::Ptr{Ptr{UInt8}})::Cint)
    return unsafe_string(out[])
end

"The name the cell was created with."
function cellname(cell::Cell)
    len = Ref{Csize_t}(0)
    check(@ccall libngc().ngc_cell_name(cell::Ptr{Cvoid}, C_NULL::Ptr{UInt8}, 0::Csize_t,
                                        len::Ptr{Csize_t})::Cint)
    buf = Vector{UInt8}(undef, len[] + 1)
    check(@ccall libngc().ngc_cell_name(cell::Ptr{Cvoid}, buf::Ptr{UInt8}, length(buf)::Csize_t,
                                        len::Ptr{Csize_t})::Cint)
    return String(resize!(buf, len[]))
end

"ngc-learn's `help()` for this cell, corrected, as a JSON string."
function metadata_json(cell::Cell)
    len = Ref{Csize_t}(0)
    check(@ccall libngc().ngc_cell_metadata_json(cell::Ptr{Cvoid}, C_NULL::Ptr{UInt8}, 0::Csize_t,
                                                 len::Ptr{Csize_t})::Cint)
    buf = Vector{UInt8}(undef, len[] + 1)
    check(@ccall libngc().ngc_cell_metadata_json(cell::Ptr{Cvoid}, buf::Ptr{UInt8},
                                                 length(buf)::Csize_t, len::Ptr{Csize_t})::Cint)
    return String(resize!(buf, len[]))
end

end # module
