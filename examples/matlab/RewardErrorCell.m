classdef RewardErrorCell < NgcCell
%REWARDERRORCELL ngc-learn's RewardErrorCell, through the ngc_mex gateway.
%
%   c = RewardErrorCell(name, n_units, alpha)
%   c = RewardErrorCell(name, n_units, alpha, 'ema_window_len', 10, ...
%                       'use_online_predictor', true, 'batch_size', 1, 'dtype', 'single')
%
%   Compartments: mu (state), reward (input), rpe (output), accum_reward (state),
%   n_ep_steps (state, ngc-learn's (batch, 1): a [1 batch] row here).
%   c.advance(): accum_reward += reward, rpe = reward - mu (the old mu),
%   mu = mu * (1 - alpha) + reward * alpha, n_ep_steps += 1.
%   c.evolve() (at the end of an episode): mu = (1 - 1/W) * mu + (1/W) *
%   accum_reward ./ n_ep_steps, W = ema_window_len (at least 1). Before any advance
%   that is 0/0: mu becomes NaN, as in ngc-learn. With use_online_predictor false, mu
%   never moves. The cell has no L (loss() is refused).
%   The methods are NgcCell's: help NgcCell. The cell itself: docs/cells/reward.md.

    methods
        function obj = RewardErrorCell(name, n_units, alpha, varargin)
            opts = NgcCell.options(struct('ema_window_len', 10, 'use_online_predictor', true, ...
                                          'batch_size', 1, 'dtype', 'single'), varargin);
            obj.id = ngc_mex('new', 'RewardErrorCell', name, n_units, opts.batch_size, ...
                             opts.dtype, alpha, opts.ema_window_len, ...
                             opts.use_online_predictor);
        end
    end
end
