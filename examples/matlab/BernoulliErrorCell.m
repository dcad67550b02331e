classdef BernoulliErrorCell < NgcCell
%BERNOULLIERRORCELL ngc-learn's BernoulliErrorCell, through the ngc_mex gateway.
%
%   c = BernoulliErrorCell(name, n_units)
%   c = BernoulliErrorCell(name, n_units, 'batch_size', 1, 'input_logits', false, ...
%                          'shape', [], 'dtype', 'single')
%
%   Compartments: p, target, modulator, mask (inputs), L, dp, dtarget (outputs).
%   'shape' is [] or [H W C] (compartments (batch, H, W, C), [C W H batch] here).
%   The methods (set, get, advance, reset, loss, ...) are NgcCell's: help NgcCell.
%   The cell itself: docs/cells/bernoulli.md.

    methods
        function obj = BernoulliErrorCell(name, n_units, varargin)
            opts = NgcCell.options(struct('batch_size', 1, 'input_logits', false, ...
                                          'shape', [], 'dtype', 'single'), varargin);
            obj.id = ngc_mex('new', 'BernoulliErrorCell', name, n_units, opts.batch_size, ...
                             opts.dtype, opts.input_logits, opts.shape);
        end
    end
end
