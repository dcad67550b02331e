# NgcCells' tests: the quick start (ngc-learn's own BernoulliErrorCell test sequence,
# value for value), the error path, copies and metadata, the graded family, a small
# logistic regression whose gradient is the cell's dp, and the predictive-coding demo
# (examples/julia/pc_demo.jl, shortened: sparse coding with RateCell and
# GaussianErrorCell).
#
#   cargo build --release                                  # in the ngc-cells checkout
#   NGC_CELLS_LIB=$PWD/target/release/libngc_cells.so \
#       julia --project=julia/NgcCells -e 'using Pkg; Pkg.test()'
#
# (Julia cannot be installed where ngc-cells is developed: these tests are checked
# against the C header by tests/julia_ccall.rs but were not run there.)
using NgcCells
using Test
using LinearAlgebra: mul!
using Random: MersenneTwister

# ngc-learn 3.2.3's test of BernoulliErrorCell: one unit, batch 1, probabilities,
# Float32; inputs as in ngc-learn's test (numpy seed 42), dp as ngc-learn computes it.
const P_IN = Float32[0.49671414, -0.13826430, 0.64768857, 1.5230298, -0.23415338,
                     -0.23413695, 1.5792128, 0.76743472, -0.46947438, 0.54256004]
const DP_REF = Float32[-2.8193381, -4976.9263, -2.1224928, -2939.0425, -1233.3916,
                       -0.24662945, -708.30042, 0.28213939, 3550.8477, 1.3651246]

matches(x, ref) = abs(x - ref) <= 1.0f-3 + 1.0f-5 * abs(ref)

@testset "NgcCells" begin
    @testset "the library" begin
        lib = NgcCells.library()
        @test !isempty(lib.path)
        v = NgcCells.version()
        @test startswith(v, "ngc-cells/")
        @test NgcCells.same_abi(VersionNumber(last(split(v, '/'))), pkgversion(NgcCells))
        @test NgcCells.status_str(NgcCells.NGC_ERR_OVERLAP) == "NGC_ERR_OVERLAP"
    end

    @testset "the quick start: ngc-learn's BernoulliErrorCell test" begin
        cell = BernoulliErrorCell("z0", 1)
        p = zeros(Float32, 1, 1)       # (n_units, batch): ngc-learn's (batch, n_units)
        target = zeros(Float32, 1, 1)
        dp = zeros(Float32, 1, 1)
        @test bind!(cell, "p", p) === p
        bind!(cell, "target", target)
        bind!(cell, "dp", dp)
        @test isbound(cell, "dp") && !isbound(cell, "dtarget")
        for t in 0:9
            p[1] = P_IN[t + 1]
            target[1] = (t - 5) / 2
            advance!(cell, t, 1.0)
            @test matches(dp[1], DP_REF[t + 1])
            @test isfinite(loss(cell))
        end
        @test getvalues(cell, "dp") == dp                       # the bound array is the storage
        @test size(getvalues(cell, "dp")) == (1, 1)
        @test size(getvalues(cell, "L")) == ()                  # a 0-dimensional array
        @test getvalues(cell, "L")[] ≈ loss(cell)
        close(cell)
    end

    @testset "errors are NgcError exceptions" begin
        BernoulliErrorCell("z0", 1) do cell
            err = try
                bind!(cell, "target", zeros(Float64, 1))    # Float64 on a Float32 cell
                nothing
            catch e
                e
            end
            @test err isa NgcError
            @test err.status == NgcCells.NGC_ERR_DTYPE_MISMATCH
            @test err.name == "NGC_ERR_DTYPE_MISMATCH"
            @test !isempty(err.msg)
            @test_throws NgcError bind!(cell, "q", zeros(Float32, 1))
            @test_throws NgcError setvalues!(cell, "p", zeros(Float32, 2))   # length mismatch
            @test_throws NgcError unbind!(cell, "p")                         # not bound
            @test_throws ArgumentError bind!(cell, "p", view(zeros(Float32, 2), 1:1))
            @test_throws ArgumentError BernoulliErrorCell("x", 1; dtype = Int32)
            @test_throws ArgumentError BernoulliErrorCell("x", 1; shape = (2, 2))
        end
        @test_throws NgcError BernoulliErrorCell("x", 0)                     # zero units
    end

    @testset "close is idempotent; a closed cell refuses calls" begin
        cell = BernoulliErrorCell("z0", 2)
        bind!(cell, "p", zeros(Float32, 2))
        close(cell)
        close(cell)
        @test !isopen(cell)
        @test isempty(cell.bound)
        err = try
            advance!(cell)
            nothing
        catch e
            e
        end
        @test err isa NgcError && err.status == NgcCells.NGC_ERR_NULL_POINTER
        @test sprint(show, cell) == "NgcCells.Cell(closed)"
    end

    @testset "copies, shapes and metadata" begin
        BernoulliErrorCell("img", 3; batch_size = 2, shape = (2, 3, 4), dtype = Float64) do cell
            @test eltype(cell) === Float64
            @test celltype(cell) == "BernoulliErrorCell"
            @test cellname(cell) == "img"
            @test batch_size(cell) == 2
            @test compartments(cell) == ["p", "target", "modulator", "mask", "L", "dp", "dtarget"]
            @test compartment_dims(cell, "p") == [2, 2, 3, 4]       # ngc-learn's (B, H, W, C)
            @test compartment_len(cell, "p") == 48
            @test compartment_dims(cell, "L") == Int[]
            setvalues!(cell, "p", fill(0.25f0, 4, 3, 2, 2))           # converted to Float64
            @test getvalues(cell, "p") == fill(0.25, 4, 3, 2, 2)
            @test size(getvalues(cell, "p")) == (4, 3, 2, 2)          # column-major (C, W, H, B)
            setvalues!(cell, "target", 1)
            @test all(==(1.0), getvalues(cell, "target"))
            out = zeros(Float64, 48)
            @test getvalues!(out, cell, "p") === out
            @test all(==(0.25), out)
            @test occursin("BernoulliErrorCell", metadata_json(cell))
            NgcCells.set_threads!(cell, 2)
            @test NgcCells.threads(cell) == 2
            reset!(cell)
            @test all(iszero, getvalues(cell, "p"))
        end
    end

    @testset "batched_reset! changes the batch size" begin
        BernoulliErrorCell("z", 4; batch_size = 2) do cell
            batched_reset!(cell, 5)
            @test batch_size(cell) == 5
            @test compartment_dims(cell, "dp") == [5, 4]
            @test size(getvalues(cell, "dp")) == (4, 5)
        end
    end

    @testset "evolve! and setshaped!" begin
        BernoulliErrorCell("z", 3; batch_size = 2) do cell
            setshaped!(cell, "p", fill(0.5f0, 3, 2))            # ngc-learn's (2, 3): its shape
            @test getvalues(cell, "p") == fill(0.5f0, 3, 2)
            err = try
                setshaped!(cell, "p", zeros(Float32, 2, 3))     # (3, 2): not p's shape
                nothing
            catch e
                e
            end
            @test err isa NgcError && err.status == NgcCells.NGC_ERR_SHAPE_MISMATCH
            @test_throws NgcError setshaped!(cell, "p", zeros(Float32, 6))
            @test getvalues(cell, "p") == fill(0.5f0, 3, 2)      # all or nothing
            @test evolve!(cell) === cell                          # no evolve step: a no-op
            @test getvalues(cell, "p") == fill(0.5f0, 3, 2)
        end
    end

    # The graded family, on numbers whose results are exact (the C library's values).
    @testset "GaussianErrorCell" begin
        GaussianErrorCell("g", 3; sigma = 2.0, dtype = Float64) do cell
            @test celltype(cell) == "GaussianErrorCell"
            @test compartments(cell) ==
                  ["mu", "target", "Sigma", "modulator", "mask", "dmu", "dtarget", "dSigma", "L"]
            setvalues!(cell, "mu", [1.0, 2.0, 3.0])
            setvalues!(cell, "target", [2.0, 2.0, 0.0])          # e = target - mu = [1, 0, -3]
            advance!(cell)
            @test vec(getvalues(cell, "dmu")) == [0.5, 0.0, -1.5]           # e / Sigma
            @test vec(getvalues(cell, "dtarget")) == [-0.5, 0.0, 1.5]
            @test loss(cell) == -2.5                               # -sum(e^2) * 0.5 / Sigma
            setshaped!(cell, "Sigma", fill(4.0, 3))                # a variance per unit
            advance!(cell)
            @test vec(getvalues(cell, "dmu")) == [0.25, 0.0, -0.75]
            @test getvalues(cell, "L") == fill(-1.25, 3)           # L takes Sigma's shape
            err = try
                loss(cell)                                         # L is not one element now
            catch e
                e
            end
            @test err isa NgcError && err.status == NgcCells.NGC_ERR_NOT_SUPPORTED
        end
    end

    @testset "LaplacianErrorCell" begin
        LaplacianErrorCell("l", 3; scale = 2.0, dtype = Float64) do cell
            @test celltype(cell) == "LaplacianErrorCell"
            setvalues!(cell, "shift", [0.0, 1.0, 2.0])
            setvalues!(cell, "target", [1.0, 1.0, 0.0])          # sign(target - shift) = [1, 0, -1]
            advance!(cell)
            @test vec(getvalues(cell, "dshift")) == [0.5, 0.0, -0.5]
            @test vec(getvalues(cell, "dtarget")) == [-0.5, 0.0, 0.5]
            @test loss(cell) == -1.0                               # -(count of non-ties) / scale
        end
    end

    @testset "RewardErrorCell" begin
        RewardErrorCell("r", 2, 0.5; ema_window_len = 4, dtype = Float64) do cell
            @test celltype(cell) == "RewardErrorCell"
            @test compartments(cell) == ["mu", "reward", "rpe", "accum_reward", "n_ep_steps"]
            setvalues!(cell, "reward", [1.0, 3.0])
            advance!(cell)
            @test vec(getvalues(cell, "rpe")) == [1.0, 3.0]        # reward - the old mu
            @test vec(getvalues(cell, "mu")) == [0.5, 1.5]         # mu (1 - alpha) + reward alpha
            advance!(cell)
            @test vec(getvalues(cell, "rpe")) == [0.5, 1.5]
            @test vec(getvalues(cell, "mu")) == [0.75, 2.25]
            @test vec(getvalues(cell, "accum_reward")) == [2.0, 6.0]
            @test vec(getvalues(cell, "n_ep_steps")) == [2.0]
            evolve!(cell)                # mu = (1 - 1/4) mu + (1/4) accum_reward / n_ep_steps
            @test vec(getvalues(cell, "mu")) == [0.8125, 2.4375]
            @test_throws NgcError loss(cell)                       # no L
            reset!(cell)
            @test all(iszero, getvalues(cell, "mu"))
        end
    end

    @testset "the model demo: logistic regression on the cell's dp" begin
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
                # dp of logits is dL/dlogits = Y - sigmoid(logits): Y - 1/2 at W = 0
                epoch == 1 && @test dlogits ≈ Y .- 0.5f0
                W .+= (0.5f0 / B) .* (dlogits * X')   # gradient ascent on L
                push!(Ls, loss(out) / B)
            end
        end
        @test Ls[end] > Ls[1] + 1          # the log-likelihood per example rose
        @test issorted(Ls[10:end])         # and kept rising (by 2e-4 a step or more in a
                                           # Float64 simulation of this loop)
    end

    @testset "the predictive-coding demo: sparse coding of bars, every neuron a cell" begin
        # examples/julia/pc_demo.jl, shortened: a stateless RateCell clamps 8x8 bars
        # images, 16 RateCell latents settle against a GaussianErrorCell, the test does
        # the synapses (mul! both ways, a Hebbian step, unit-norm columns).
        rng = MersenneTwister(7)
        side, npix, nlat, B = 8, 64, 16, 32
        W = rand(rng, Float32, npix, nlat) .- 0.5f0
        W ./= sqrt.(sum(abs2, W; dims = 1))
        images, x, mu, dmu = (zeros(Float32, npix, B) for _ in 1:4)
        j, zf = zeros(Float32, nlat, B), zeros(Float32, nlat, B)
        xc = RateCell("x", npix, 0.0; batch_size = B)              # tau_m 0: stateless
        zc = RateCell("z", nlat, 5.0; batch_size = B, prior = ("cauchy", 0.1), act_fx = "relu",
                      threshold = ("soft_threshold", 0.05))
        ec = GaussianErrorCell("e", npix; batch_size = B)
        bind!(xc, "j", images); bind!(xc, "zF", x); bind!(ec, "target", x)
        bind!(ec, "mu", mu); bind!(ec, "dmu", dmu); bind!(zc, "j", j); bind!(zc, "zF", zf)
        energies = Float64[]
        for epoch in 1:10
            energy = 0.0
            for _ in 1:20
                fill!(images, 0)
                for b in 1:B, k in 1:2side
                    rand(rng) < 1 / side || continue
                    img = reshape(view(images, :, b), side, side)
                    k <= side ? (img[k, :] .= 1) : (img[:, k - side] .= 1)
                end
                advance!(xc)
                @test x == images                                   # the clamped data
                reset!(zc)
                @test all(iszero, zf)                               # a bound zF is reset too
                for t in 0:40
                    mul!(mu, W, zf)
                    advance!(ec, t)
                    t == 40 && break
                    mul!(j, W', dmu)
                    advance!(zc, t, 1.0)
                end
                @test dmu ≈ x .- mu                                 # Sigma 1
                @test all(>=(0), zf)                                # relu
                energy -= loss(ec) / B
                W .+= (0.2f0 / B) .* (dmu * zf')
                W ./= sqrt.(sum(abs2, W; dims = 1))
            end
            push!(energies, energy / 20)
        end
        foreach(close, (xc, zc, ec))
        @test energies[end] < energies[1] / 4                       # ~9x in the C twin
        @test all(<(energies[1] / 2), energies[6:end])
    end
end
