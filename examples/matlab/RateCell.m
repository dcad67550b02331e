classdef RateCell < NgcCell
%RATECELL ngc-learn's RateCell, through the ngc_mex gateway.
%
%   c = RateCell(name, n_units, tau_m)
%   c = RateCell(name, n_units, tau_m, 'prior', {'gaussian', 0}, 'act_fx', 'identity', ...
%                'output_scale', 1, 'threshold', {'none', 0}, 'integration_type', 'euler', ...
%                'resist_scale', 1, 'is_stateful', true, 'batch_size', 1, 'shape', [], ...
%                'dtype', 'single')
%
%   'prior' and 'threshold' are {name, value} pairs, as ngc-learn's tuples: the prior
%   ('gaussian', 'laplacian', 'cauchy', 'exp') with its leak rate gamma, the
%   threshold ('none', 'soft_threshold') with its lambda. 'integration_type' is
%   'euler', 'midpoint', 'rk4', 'heun' or 'ralston' (docs/cells/rate.md says how
%   they map to ngc-learn 3.2.3's). The cell is stateless when tau_m <= 0 or
%   'is_stateful' is false.
%
%   Compartments: j (input; a stateful advance writes j .* fx'(z) * resist_scale back
%   into it), j_td (input), z (state), zF (output), all of the state's shape.
%   c.advance(t, dt) integrates tau_m dz/dt = -gamma prior'(z) + j + j_td over dt
%   (stateless: z = j + j_td), then zF = fx(z) * output_scale.
%   The methods are NgcCell's: help NgcCell. The cell itself: docs/cells/rate.md.

    methods
        function obj = RateCell(name, n_units, tau_m, varargin)
            opts = NgcCell.options(struct('prior', {{'gaussian', 0}}, 'act_fx', 'identity', ...
                                          'output_scale', 1, 'threshold', {{'none', 0}}, ...
                                          'integration_type', 'euler', 'resist_scale', 1, ...
                                          'is_stateful', true, 'batch_size', 1, 'shape', [], ...
                                          'dtype', 'single'), varargin);
            prior = RateCell.pair(opts.prior, 'prior');
            threshold = RateCell.pair(opts.threshold, 'threshold');
            obj.id = ngc_mex('new', 'RateCell', name, n_units, opts.batch_size, opts.dtype, ...
                             tau_m, prior{1}, prior{2}, opts.act_fx, opts.output_scale, ...
                             threshold{1}, threshold{2}, opts.integration_type, ...
                             opts.resist_scale, opts.is_stateful, opts.shape);
        end
    end

    methods (Static, Hidden)
        function p = pair(v, what)
            % {name, value} (ngc-learn's tuple); a name alone takes the value 0.
            if ischar(v)
                v = {v, 0};
            end
            if ~iscell(v) || numel(v) ~= 2 || ~ischar(v{1})
                error('ngc:usage', '''%s'' must be {name, value}, e.g. {''cauchy'', 0.14}', what);
            end
            p = v;
        end
    end
end
