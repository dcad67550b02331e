# Quick start (Julia): ngc-learn's own BernoulliErrorCell test, then a small learning
# loop, through the NgcCells package (julia/NgcCells: @ccall over the shared library).
#
# Once, to add the package from this checkout to your environment:
#   julia -e 'using Pkg; Pkg.develop(path="julia/NgcCells")'
# Then, with the library built:
#   cargo build --release
#   NGC_CELLS_LIB=$PWD/target/release/libngc_cells.so julia examples/julia/quickstart.jl
# (or, after ./install.sh, without NGC_CELLS_LIB: the system loader finds it).
#
# Exits with an error if a value differs from ngc-learn's or the loop does not learn.
using NgcCells
using LinearAlgebra: mul!
using Random: MersenneTwister

println(NgcCells.version())

# --- 1. ngc-learn's test: one unit, batch 1, probabilities, Float32, ten steps ------------
# Inputs as in ngc-learn's test (numpy seed 42); dp as ngc-learn 3.2.3 computes it.
p_in = Float32[0.49671414, -0.13826430, 0.64768857, 1.5230298, -0.23415338,
               -0.23413695, 1.5792128, 0.76743472, -0.46947438, 0.54256004]
dp_ref = Float32[-2.8193381, -4976.9263, -2.1224928, -2939.0425, -1233.3916,
                 -0.24662945, -708.30042, 0.28213939, 3550.8477, 1.3651246]

cell = BernoulliErrorCell("z0", 1)
p = zeros(Float32, 1, 1)       # (n_units, batch): ngc-learn's (batch, n_units), column-major
target = zeros(Float32, 1, 1)
dp = zeros(Float32, 1, 1)
bind!(cell, "p", p)            # zero copy: the cell reads p and target, writes dp
bind!(cell, "target", target)
bind!(cell, "dp", dp)
for t in 0:9
    p[1] = p_in[t + 1]
    target[1] = (t - 5) / 2
    advance!(cell, t, 1.0)
    ok = abs(dp[1] - dp_ref[t + 1]) <= 1.0f-3 + 1.0f-5 * abs(dp_ref[t + 1])
    println("t=$t  p=$(p[1])  target=$(target[1])  dp=$(dp[1])  (ngc-learn $(dp_ref[t + 1]))  ",
            "L=$(loss(cell))  ", ok ? "ok" : "MISMATCH")
    ok || error("step $t differs from ngc-learn")
end
println(cell)
println(compartments(cell), " ", compartment_dims(cell, "dp"))

# --- 2. Errors are NgcError exceptions with the status and the library's message ------------
try
    bind!(cell, "target", zeros(Float64, 1))   # a Float64 array on a Float32 cell
    error("expected NGC_ERR_DTYPE_MISMATCH")
catch e
    e isa NgcError && e.status == NgcCells.NGC_ERR_DTYPE_MISMATCH || rethrow()
    println("caught: ", sprint(showerror, e))
end
close(cell)
close(cell)                    # idempotent
println(cell)

# --- 3. Learning: logistic regression, the cell's dp (dL/dlogits) as the gradient --------
rng = MersenneTwister(0)
n_in, n_out, B = 8, 4, 64
W_true = 2 .* randn(rng, Float32, n_out, n_in)
X = randn(rng, Float32, n_in, B)
Y = Float32.(rand(rng, Float32, n_out, B) .< 1 ./ (1 .+ exp.(-(W_true * X))))

W = zeros(Float32, n_out, n_in)
logits = zeros(Float32, n_out, B)   # bound as "p": written in place with mul!
dlogits = zeros(Float32, n_out, B)  # bound as "dp"
Ls = Float64[]
BernoulliErrorCell("out", n_out; batch_size = B, input_logits = true) do out
    bind!(out, "p", logits)
    bind!(out, "dp", dlogits)
    setvalues!(out, "target", Y)    # a copy: Y is not bound
    for epoch in 1:200
        mul!(logits, W, X)          # in place (logits = W * X would make a new array)
        advance!(out)
        W .+= (0.5f0 / B) .* (dlogits * X')   # gradient ascent on L
        push!(Ls, loss(out) / B)
        epoch % 50 == 0 && println("epoch $epoch  log-likelihood per example ", Ls[end])
    end
end
Ls[end] > Ls[1] + 1 || error("the log-likelihood did not rise: $(Ls[1]) -> $(Ls[end])")
println("all 10 steps match ngc-learn; learning ok")
