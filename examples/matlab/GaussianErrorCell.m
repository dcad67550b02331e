classdef GaussianErrorCell < NgcCell
%GAUSSIANERRORCELL ngc-learn's GaussianErrorCell, through the ngc_mex gateway.
%
%   c = GaussianErrorCell(name, n_units)
%   c = GaussianErrorCell(name, n_units, 'batch_size', 1, 'sigma', 1, 'shape', [], ...
%                         'dtype', 'single')
%
%   Compartments: mu, target (inputs), Sigma (parameter, kept by the resets),
%   modulator, mask (inputs), dmu, dtarget, dSigma, L (outputs). With e = target - mu:
%   dmu = e ./ Sigma .* modulator .* mask, dtarget = -dmu, dSigma = 1,
%   L = -0.5 * sum(e(:).^2) ./ Sigma (over the whole batch, not masked).
%
%   'sigma' is the variance itself (not squared). Sigma starts as ngc-learn's (1, 1)
%   holding it; c.set_shaped('Sigma', v) gives it another shape, ngc-learn's dims
%   being v's size reversed: a per-unit variance is an [n_units 1] column (1, n_units),
%   a full one an [n_units batch] matrix. dSigma and L then follow Sigma's shape (L
%   one value per Sigma element, so loss() is refused: read c.get('L')).
%   The methods are NgcCell's: help NgcCell. The cell itself: docs/cells/gaussian.md.

    methods
        function obj = GaussianErrorCell(name, n_units, varargin)
            opts = NgcCell.options(struct('batch_size', 1, 'sigma', 1, 'shape', [], ...
                                          'dtype', 'single'), varargin);
            obj.id = ngc_mex('new', 'GaussianErrorCell', name, n_units, opts.batch_size, ...
                             opts.dtype, opts.sigma, opts.shape);
        end
    end
end
