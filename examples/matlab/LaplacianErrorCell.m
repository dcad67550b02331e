classdef LaplacianErrorCell < NgcCell
%LAPLACIANERRORCELL ngc-learn's LaplacianErrorCell, through the ngc_mex gateway.
%
%   c = LaplacianErrorCell(name, n_units)
%   c = LaplacianErrorCell(name, n_units, 'batch_size', 1, 'scale', 1, 'shape', [], ...
%                          'dtype', 'single')
%
%   Compartments: shift, target (inputs), Scale (parameter, kept by the resets),
%   modulator, mask (inputs), dshift, dtarget, dScale, L (outputs). With
%   s = sign(target - shift): dshift = s ./ Scale .* modulator .* mask,
%   dtarget = -dshift, dScale = 1, L = -sum(abs(s(:))) ./ Scale: minus the number of
%   elements where target ~= shift, over Scale (ngc-learn's L; not the L1 distance).
%
%   Scale takes other shapes with c.set_shaped('Scale', v) as GaussianErrorCell's
%   Sigma does. A cell made with 'shape' [H W C] stays 4-D through the resets.
%   The methods are NgcCell's: help NgcCell. The cell itself: docs/cells/laplacian.md.

    methods
        function obj = LaplacianErrorCell(name, n_units, varargin)
            opts = NgcCell.options(struct('batch_size', 1, 'scale', 1, 'shape', [], ...
                                          'dtype', 'single'), varargin);
            obj.id = ngc_mex('new', 'LaplacianErrorCell', name, n_units, opts.batch_size, ...
                             opts.dtype, opts.scale, opts.shape);
        end
    end
end
