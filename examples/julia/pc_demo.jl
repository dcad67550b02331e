# Sparse coding of 8x8 bars: the main demo's model (examples/c/bars.c) in Julia, through
# the NgcCells package. Every neuron is an ngc-cell; this script does the synapses only.
#
#   x  stateless RateCell: clamps the images      e  GaussianErrorCell: dmu = x - mu
#   z  RateCell, 16 latents: euler, tau_m 5, Cauchy prior, relu, soft threshold
#   mu = W z.zF into e.mu;  z.j = W' e.dmu;  after settling: W += eta dmu zF'
#
# The cells share Julia arrays (zero copy; (n_units, batch) column-major is ngc-learn's
# (batch, n_units)): x's zF is e's target. It prints the energy 0.5|x - W z|^2 per image
# each epoch, then the 16 causes it found as text.
#
#   cargo build --release
#   NGC_CELLS_LIB=$PWD/target/release/libngc_cells.so julia examples/julia/pc_demo.jl
using NgcCells
using LinearAlgebra: mul!
using Random: MersenneTwister

const SIDE, NPIX, NLAT, B = 8, 64, 16, 32
const BATCHES, STEPS, ETA = 20, 40, 0.2f0

# Each of the 8 horizontal and 8 vertical bars lit with probability 1/8.
function make_bars!(images, rng)
    fill!(images, 0)
    for b in 1:B, k in 1:2SIDE
        rand(rng) < 1 / SIDE || continue
        img = reshape(view(images, :, b), SIDE, SIDE)
        k <= SIDE ? (img[k, :] .= 1) : (img[:, k - SIDE] .= 1)
    end
    return images
end

normalize_columns!(W) = (W ./= sqrt.(sum(abs2, W; dims = 1)); W)

rng = MersenneTwister(7)
W = normalize_columns!(rand(rng, Float32, NPIX, NLAT) .- 0.5f0)
images, x, mu, dmu = (zeros(Float32, NPIX, B) for _ in 1:4)
j, zf = zeros(Float32, NLAT, B), zeros(Float32, NLAT, B)

xc = RateCell("x", NPIX, 0.0; batch_size = B, is_stateful = false)
zc = RateCell("z", NLAT, 5.0; batch_size = B, prior = ("cauchy", 0.1), act_fx = "relu",
              threshold = ("soft_threshold", 0.05), integration_type = "euler")
ec = GaussianErrorCell("e", NPIX; batch_size = B, sigma = 1.0)
bind!(xc, "j", images); bind!(xc, "zF", x)
bind!(ec, "target", x)                     # one array: x's output is e's input
bind!(ec, "mu", mu); bind!(ec, "dmu", dmu)
bind!(zc, "j", j); bind!(zc, "zF", zf)

energies = Float64[]
println("epoch  energy 0.5|x - W z|^2 per image")
for epoch in 1:20
    energy = 0.0
    for _ in 1:BATCHES
        make_bars!(images, rng)
        advance!(xc)                       # clamp the data
        reset!(zc)                         # latents at rest
        for t in 0:STEPS
            mul!(mu, W, zf)                # the prediction, in place
            advance!(ec, t)
            t == STEPS && break
            mul!(j, W', dmu)               # the error, fed back
            advance!(zc, t, 1.0)
        end
        energy -= loss(ec) / B
        W .+= (ETA / B) .* (dmu * zf')     # Hebbian
        normalize_columns!(W)
    end
    push!(energies, energy / BATCHES)
    println(lpad(epoch, 5), "  ", round(energies[end]; digits = 4))
end
foreach(close, (xc, zc, ec))

# The causes as 4x4 tiles of 8x8: '#' where a weight is above half a unit-norm bar's.
tiles = [reshape(W[:, k], SIDE, SIDE) .> 0.5f0 / sqrt(8.0f0) for k in 1:NLAT]
for row in 0:3, r in 1:SIDE
    println(join((join(tiles[4row + t][r, c] ? '#' : '.' for c in 1:SIDE) for t in 1:4), " "))
    r == SIDE && println()
end
energies[end] < energies[1] / 4 || error("the energy did not fall fourfold: $energies")
