function test_ngc_cells()
%TEST_NGC_CELLS Tests of the ngc_mex gateway and the classdefs of every cell type
%   (MATLAB and Octave).
%   Needs ngc_mex on the path (build_ngc_mex.m builds it). Prints one line per failed
%   check and "N passed, M failed" last; raises an error if any check failed.

T = struct('passed', 0, 'failed', 0);
live0 = ngc_mex('live');

% --- ngc-learn's own test: 1 unit, batch 1, probabilities, single, ten steps ---------
p_in = single([0.49671414, -0.13826430, 0.64768857, 1.5230298, -0.23415338, ...
               -0.23413695, 1.5792128, 0.76743472, -0.46947438, 0.54256004]);
dp_ref = single([-2.8193381, -4976.9263, -2.1224928, -2939.0425, -1233.3916, ...
                 -0.24662945, -708.30042, 0.28213939, 3550.8477, 1.3651246]);
c = BernoulliErrorCell('z0', 1);
T = check(T, ngc_mex('live') == live0 + 1, 'one live cell');
for t = 0:9
    c.set('p', p_in(t + 1));
    c.set('target', (t - 5) / 2);          % a double, converted to single
    c.advance(t, 1);
    dp = c.get('dp');
    T = check(T, isa(dp, 'single') && isequal(size(dp), [1 1]), 'dp is a 1x1 single');
    T = check(T, abs(dp - dp_ref(t + 1)) <= 1e-3 + 1e-5 * abs(dp_ref(t + 1)), ...
              sprintf('step %d: dp %.7g, ngc-learn %.7g', t, dp, dp_ref(t + 1)));
end
q = min(max(double(p_in(10)), 1e-4), 1 - 1e-4);
T = check(T, abs(c.loss() - (2 * log(q) - log(1 - q))) < 1e-4, 'L of the last step');
T = check(T, isequal(c.get('mask'), single(1)), 'the mask is reset by the step');

% --- metadata --------------------------------------------------------------------------
s = c.info();
T = check(T, strcmp(s.name, 'z0') && strcmp(s.type, 'BernoulliErrorCell') && ...
          strcmp(s.dtype, 'single') && s.n_units == 1 && s.batch_size == 1, 'info');
T = check(T, isequal(s.compartments, {'p', 'target', 'modulator', 'mask', 'L', 'dp', 'dtarget'}), ...
          'compartment names');
j = c.metadata_json();
T = check(T, ischar(j) && ~isempty(strfind(j, '"BernoulliErrorCell"')), 'metadata JSON');
m = c.metadata();
T = check(T, isstruct(m), 'metadata decodes to a struct');
T = check(T, isequal(c.dims('p'), [1 1]) && isempty(c.dims('L')), 'dims');
T = check(T, ~isempty(strfind(ngc_mex('version'), 'ngc-cells/')), 'version');

% --- errors: the library's status and message ------------------------------------------
T = expect_error(T, @() c.set('q', 1), 'ngc:NGC_ERR_UNKNOWN_COMPARTMENT', 'no compartment named ''q''');
T = expect_error(T, @() c.get('Dp'), 'ngc:NGC_ERR_UNKNOWN_COMPARTMENT', 'Dp');
T = expect_error(T, @() c.set('p', [1 2]), 'ngc:NGC_ERR_LENGTH_MISMATCH', 'ngc_cell_set_f32');
T = expect_error(T, @() c.set_threads(0), 'ngc:NGC_ERR_INVALID_ARGUMENT', '');
T = expect_error(T, @() c.batched_reset(0), 'ngc:NGC_ERR_ZERO_SIZE', '');
T = expect_error(T, @() BernoulliErrorCell('x', 0), 'ngc:NGC_ERR_ZERO_SIZE', '');
T = expect_error(T, @() BernoulliErrorCell('x', 2, 'shape', [2 0 1]), 'ngc:NGC_ERR_ZERO_SIZE', '');
T = expect_error(T, @() c.set('p', 'a'), 'ngc:usage', 'single or double');
T = expect_error(T, @() c.set('p', int32(1)), 'ngc:usage', 'single or double');
T = expect_error(T, @() c.set('p', 1 + 2i), 'ngc:usage', 'real');
T = expect_error(T, @() BernoulliErrorCell('x', -1), 'ngc:usage', 'n_units');
T = expect_error(T, @() BernoulliErrorCell('x', 1, 'dtype', 'int8'), 'ngc:usage', 'dtype');
T = expect_error(T, @() BernoulliErrorCell('x', 1, 'colour', 1), 'ngc:usage', 'options');
T = expect_error(T, @() ngc_mex('frobnicate'), 'ngc:usage', 'unknown command');
T = check(T, ngc_mex('live') == live0 + 1, 'failed constructors leave no cell behind');

% --- stale and double frees are refused, not crashes ------------------------------------
h = ngc_mex('new', 'raw', 2, 1, true, [], 'double');
ngc_mex('free', h);
T = expect_error(T, @() ngc_mex('free', h), 'ngc:invalidHandle', 'no live cell');
T = expect_error(T, @() ngc_mex('loss', h), 'ngc:invalidHandle', 'no live cell');
T = expect_error(T, @() ngc_mex('loss', uint64(12345)), 'ngc:invalidHandle', '12345');
T = expect_error(T, @() ngc_mex('loss', 1), 'ngc:usage', 'uint64');
id = c.id;
delete(c);
T = check(T, ngc_mex('live') == live0, 'delete frees the cell');
T = expect_error(T, @() ngc_mex('free', id), 'ngc:invalidHandle', 'no live cell');

% --- a double cell, logits, batch 2, shapes and resets ----------------------------------
d = BernoulliErrorCell('out', 3, 'batch_size', 2, 'input_logits', true, 'dtype', 'double');
P = [0 1 -1; 2 -2 0.5]';                  % [n_units batch]
X = [1 0 1; 0 1 1]';
d.set('p', P);
d.set('target', single(X));             % single, converted to double
d.set('modulator', 2 * ones(3, 2));
d.advance();
Q = 1 ./ (1 + exp(-P));
T = check(T, isa(d.get('dp'), 'double') && isequal(size(d.get('dp')), [3 2]), 'dp is [n_units batch]');
T = check(T, max(max(abs(d.get('dp') - 2 * (X - Q)))) < 1e-12, 'dp = modulator .* (x - sigmoid(p))');
L = sum(sum(X .* log(Q) + (1 - X) .* log(1 - Q)));
T = check(T, abs(d.loss() - L) < 1e-12, 'L');
T = check(T, isequal(d.dims('dp'), [2 3]), 'ngc-learn dims (batch, n_units)');
d.batched_reset(4);
M = d.get('modulator');
T = check(T, isequal(size(d.get('p')), [3 4]) && all(M(:) == 1), 'batched_reset(4)');
d.reset();
s = d.info();
T = check(T, isequal(size(d.get('p')), [3 2]) && s.batch_size == 2, 'reset');
img = BernoulliErrorCell('img', 12, 'batch_size', 2, 'shape', [2 3 2]);
T = check(T, isequal(size(img.get('p')), [2 3 2 2]) && isequal(img.dims('p'), [2 2 3 2]), ...
          '(batch, H, W, C) is [C W H batch]');
img.set_threads(2);
s = img.info();
T = check(T, s.threads == 2, 'threads');
T = check(T, ngc_mex('live') == live0 + 2, 'two live cells');

% --- cells whose last reference goes are freed (handle class delete) ---------------------
make_and_drop();
T = check(T, ngc_mex('live') == live0 + 2, 'a cell made in a function is freed when it returns');
clear img
T = check(T, ngc_mex('live') == live0 + 1, 'clear frees a cell');

% --- the graded family: every type, set_shaped, evolve, the new statuses ----------------
T = family_tests(T);
T = check(T, ngc_mex('live') == live0 + 1, 'the family tests freed their cells');

% --- unloading the gateway frees every live cell; old handles are then refused -----------
keep = BernoulliErrorCell('keep', 1);   % d and keep are live
T = check(T, ngc_mex('live') == live0 + 2, 'live before unloading');
if exist('OCTAVE_VERSION', 'builtin')
    clear functions                      % Octave's clear has no 'mex' keyword
else
    clear mex
end
T = check(T, ngc_mex('live') == 0, 'unloading freed every cell');
T = expect_error(T, @() keep.loss(), 'ngc:invalidHandle', 'no live cell');
fresh = BernoulliErrorCell('fresh', 1);
T = check(T, fresh.id ~= keep.id && fresh.id ~= d.id, 'a new load hands out new handles');
T = expect_error(T, @() keep.loss(), 'ngc:invalidHandle', 'no live cell');
delete(keep);                            % silent for a stale handle
delete(d);
T = check(T, ngc_mex('live') == 1 && fresh.loss() == 0, 'the fresh cell is untouched');
delete(fresh);

fprintf('%d passed, %d failed\n', T.passed, T.failed);
if T.failed > 0
    error('ngc:test', '%d check(s) failed', T.failed);
end
end

function T = family_tests(T)
% Every cell type the gateway knows has its classdef, a subclass of NgcCell.
types = ngc_mex('types');
T = check(T, isequal(types, {'BernoulliErrorCell', 'GaussianErrorCell', ...
                             'LaplacianErrorCell', 'RewardErrorCell', 'RateCell'}), 'the types');
for k = 1:numel(types)
    if strcmp(types{k}, 'RewardErrorCell') || strcmp(types{k}, 'RateCell')
        c = feval(types{k}, 'any', 2, 0.5);
    else
        c = feval(types{k}, 'any', 2);
    end
    s = c.info();
    T = check(T, isa(c, 'NgcCell') && strcmp(s.type, types{k}) && strcmp(s.dtype, 'single'), ...
              sprintf('%s is an NgcCell of its type', types{k}));
    c.evolve();                           % a no-op but for RewardErrorCell: never an error
end
T = expect_error(T, @() ngc_mex('new', 'NoSuchCell', 'x', 1, 1, 'single'), 'ngc:usage', ...
                 'unknown cell type ''NoSuchCell'' (the types are BernoulliErrorCell, ');
T = expect_error(T, @() ngc_mex('new', 'GaussianErrorCell', 'x', 1, 1, 'single', 1), ...
                 'ngc:usage', 'sigma, shape');
T = expect_error(T, @() GaussianErrorCell('x', 1, 'scale', 2), 'ngc:usage', ...
                 'the options are batch_size, sigma, shape, dtype');

% ngc-learn's error-cell lesson: mu = [-1 1 1], target = [1 -1 1], Sigma = 1.
for dt = {'single', 'double'}
    e = GaussianErrorCell('e0', 3, 'dtype', dt{1});
    s = e.info();
    T = check(T, isequal(s.compartments, {'mu', 'target', 'Sigma', 'modulator', 'mask', ...
                                          'dmu', 'dtarget', 'dSigma', 'L'}), 'Gaussian compartments');
    e.set('mu', [-1; 1; 1]);
    e.set('target', [1; -1; 1]);
    e.advance();
    dtarget = e.get('dtarget');
    T = check(T, isa(dtarget, dt{1}) && isequal(e.get('dmu'), cast([2; -2; 0], dt{1})), ...
              ['lesson dmu, ' dt{1}]);
    T = check(T, isequal(dtarget, cast([-2; 2; 0], dt{1})) && 1 / dtarget(3) == -Inf, ...
              ['lesson dtarget = [-2 2 -0], ' dt{1}]);
    T = check(T, e.loss() == -4 && isequal(e.get('dSigma'), cast(1, dt{1})), ['lesson L, ' dt{1}]);
end

% A per-unit Sigma: an [n_units 1] column is ngc-learn's (1, n_units). Batch 2.
g = GaussianErrorCell('g', 3, 'batch_size', 2);
g.set_shaped('Sigma', [1; 2; 4]);
T = check(T, isequal(g.dims('Sigma'), [1 3]) && isequal(g.dims('dSigma'), [1 3]) && ...
          isequal(g.dims('L'), 3), 'Sigma (1, 3), dSigma (1, 3), L (3) squeezed');
T = check(T, isequal(g.get('Sigma'), single([1; 2; 4])), 'get gives Sigma back as a column');
g.set('mu', [0 0 0; 1 1 1]');              % [n_units batch]
g.set('target', [1 2 3; 1 1 -1]');          % e = [1 2 3; 0 0 -2], sum(e.^2) = 18
g.advance();
T = check(T, isequal(g.get('dmu'), single([1 1 0.75; 0 0 -0.5]')), 'dmu = e ./ Sigma per unit');
T = check(T, isequal(g.get('L'), single([-9; -4.5; -2.25])), 'L(i) = -0.5 * 18 / Sigma(i)');
T = expect_error(T, @() g.loss(), 'ngc:NGC_ERR_NOT_SUPPORTED', 'ngc_cell_loss');
g.reset();
T = check(T, isequal(g.get('Sigma'), single([1; 2; 4])) && isequal(g.get('dSigma'), single([0; 0; 0])), ...
          'reset keeps Sigma; dSigma zeros of its shape');
% A row vector is (3, 1): per sample, which does not fit batch 2.
T = expect_error(T, @() g.set_shaped('Sigma', [1 2 4]), 'ngc:NGC_ERR_SHAPE_MISMATCH', 'Sigma');
T = check(T, isequal(g.dims('Sigma'), [1 3]), 'a refused set_shaped changes nothing');
% ngc-learn's dims given: (3,) and 0-d.
g.set_shaped('Sigma', [1; 2; 4], 3);
T = check(T, isequal(g.dims('Sigma'), 3) && isequal(g.dims('L'), 3), 'Sigma (3,)');
g.set_shaped('Sigma', 2, []);
T = check(T, isempty(g.dims('Sigma')) && isempty(g.dims('L')), 'a 0-d Sigma');
g.set('target', [1 2 3; 0 0 -2]');
g.advance();
T = check(T, g.loss() == -4.5 && isequal(g.get('dmu'), single([0.5 1 1.5; 0 0 -1]')), '0-d Sigma = 2');
% A full Sigma: an [n_units batch] matrix is (batch, n_units); the same with dims given.
h = GaussianErrorCell('h', 3, 'batch_size', 2, 'dtype', 'double');
S = [1 2 4; 8 16 32]';
h.set_shaped('Sigma', S);
T = check(T, isequal(h.dims('Sigma'), [2 3]) && isequal(h.dims('L'), [2 3]), 'a full Sigma');
h.set('target', ones(3, 2));
h.advance();
T = check(T, isequal(h.get('dmu'), 1 ./ S) && isequal(h.get('L'), -3 ./ S), 'dmu and L of a full Sigma');
h.set_shaped('Sigma', S(:), [2 3]);
T = check(T, isequal(h.get('Sigma'), S), 'dims given: the values in get''s order');
T = expect_error(T, @() h.batched_reset(3), 'ngc:NGC_ERR_SHAPE_MISMATCH', '');
T = expect_error(T, @() h.set_shaped('Sigma', [1 2 3], [2 3]), 'ngc:NGC_ERR_LENGTH_MISMATCH', ...
                 'holds 3 element(s), the dims 6');
T = expect_error(T, @() h.set_shaped('Sigma', zeros(3, 0)), 'ngc:NGC_ERR_ZERO_SIZE', '');
T = expect_error(T, @() h.set_shaped('Sigma', 1, [1 1 1 1 1]), 'ngc:NGC_ERR_INVALID_ARGUMENT', '');
T = expect_error(T, @() h.set_shaped('Sigma', 1, 'a'), 'ngc:usage', 'dims');
T = expect_error(T, @() h.set_shaped('mu', zeros(3, 1)), 'ngc:NGC_ERR_SHAPE_MISMATCH', 'mu');
h.set_shaped('mu', 7 * ones(3, 2));         % its own dims: accepted
T = check(T, all(all(h.get('mu') == 7)), 'set_shaped with the current dims');
% 4-D: a per-channel Sigma against (batch, H, W, C) = (1, 1, 2, 3).
img = GaussianErrorCell('img', 6, 'shape', [1 2 3], 'sigma', 0.5);
T = check(T, isequal(img.dims('mu'), [1 1 2 3]) && isequal(size(img.get('mu')), [3 2]), '4-D');
img.set_shaped('Sigma', [1; 2; 4]);
img.set('target', ones(3, 2));
img.advance();
dmu = img.get('dmu');
T = check(T, isequal(dmu(:), single([1; 0.5; 0.25; 1; 0.5; 0.25])), 'per-channel Sigma');

% Laplacian: L is minus the count of unequal elements over Scale.
c = LaplacianErrorCell('lap', 4, 'scale', 2);
c.set('shift', [0; 1; 2; 3]);
c.set('target', [0; 2; 1; 3.5]);
c.advance();
T = check(T, isequal(c.get('dshift'), single([0; 0.5; -0.5; 0.5])) && c.loss() == -1.5, ...
          'Laplacian dshift and L');
c.set_shaped('Scale', [1; 2; 4; 8], 4);
c.advance();
T = check(T, isequal(c.get('L'), single([-3; -1.5; -0.75; -0.375])), 'Laplacian L per Scale element');
T = expect_error(T, @() c.loss(), 'ngc:NGC_ERR_NOT_SUPPORTED', '');
limg = LaplacianErrorCell('limg', 4, 'batch_size', 2, 'shape', [2 2 1], 'dtype', 'double');
limg.reset();
T = check(T, isequal(limg.dims('dshift'), [2 2 2 1]), 'a 4-D Laplacian cell stays 4-D after reset');
limg.batched_reset(3);
T = check(T, isequal(limg.dims('target'), [3 2 2 1]), '... and after batched_reset');

% Reward: rpe with the old mu, the online EMA, evolve at the end of an episode.
r = RewardErrorCell('rpe', 2, 0.1);
s = r.info();
T = check(T, isequal(s.compartments, {'mu', 'reward', 'rpe', 'accum_reward', 'n_ep_steps'}), ...
          'Reward compartments');
r.set('reward', [1; 2]);
r.advance();
T = check(T, isequal(r.get('rpe'), single([1; 2])) && isequal(r.get('mu'), single([0.1; 0.2])), ...
          'first step');
r.set('reward', [3; 0]);
r.advance();
T = check(T, max(abs(r.get('rpe') - [2.9; -0.2])) < 1e-6 && max(abs(r.get('mu') - [0.39; 0.18])) < 1e-6, ...
          'second step: rpe uses the old mu');
T = check(T, isequal(r.get('accum_reward'), single([4; 2])) && r.get('n_ep_steps') == 2, 'accumulators');
r.evolve();
T = check(T, max(abs(r.get('mu') - [0.551; 0.262])) < 1e-6, 'evolve');
T = expect_error(T, @() r.loss(), 'ngc:NGC_ERR_NOT_SUPPORTED', '');
r.reset();
T = check(T, isequal(r.get('reward'), single([0; 0])), 'reset sets reward to 0 too');
r.evolve();
T = check(T, all(isnan(r.get('mu'))), 'evolve before any advance: 0/0');
off = RewardErrorCell('off', 2, 0.5, 'ema_window_len', 4, 'use_online_predictor', false, ...
                      'batch_size', 3, 'dtype', 'double');
T = check(T, isequal(off.dims('n_ep_steps'), [3 1]) && isequal(size(off.get('n_ep_steps')), [1 3]), ...
          'n_ep_steps is (batch, 1): a [1 batch] row');
off.set('reward', [1 -2; 3 0.5; 5 6]');
off.advance();
off.evolve();
T = check(T, isequal(off.get('rpe'), [1 -2; 3 0.5; 5 6]') && ~any(any(off.get('mu'))), ...
          'no online predictor: rpe = reward, mu stays 0');
T = expect_error(T, @() RewardErrorCell('w', 2, 0.1, 'ema_window_len', 0), 'ngc:NGC_ERR_ZERO_SIZE', '');

% RateCell: stateful Euler, tau_m = 10, dt = 1: z = z + (j + j_td) / 10; zF = fx(z).
z = RateCell('z', 2, 10);
s = z.info();
T = check(T, isequal(s.compartments, {'j', 'j_td', 'z', 'zF'}), 'Rate compartments');
z.set('j', [1; 2]);
z.set('j_td', [0.5; 0]);
z.advance(0, 1);
T = check(T, max(abs(z.get('zF') - [0.15; 0.2])) < 1e-7 && isequal(z.get('z'), z.get('zF')), ...
          'Rate: one Euler step');
T = expect_error(T, @() z.loss(), 'ngc:NGC_ERR_NOT_SUPPORTED', '');
% tanh: the drive j .* tanh'(z) is written back into j.
t = RateCell('t', 2, 10, 'act_fx', 'tanh');
t.set('j', [1; 2]);
t.advance();
t.advance();
w = 1 - tanh([0.1; 0.2]).^2;
T = check(T, max(abs(t.get('j') - [1; 2] .* w)) < 1e-6 && ...
          max(abs(t.get('z') - ([0.1; 0.2] + 0.1 * [1; 2] .* w))) < 1e-6, 'Rate: j written back');
% A Gaussian prior's leak and output_scale, double: z = z + (-0.5 z + j) / 10, zF = 2 z.
g = RateCell('g', 2, 10, 'prior', {'gaussian', 0.5}, 'output_scale', 2, 'dtype', 'double');
g.set('z', [1; -2]);
g.advance();
T = check(T, max(abs(g.get('z') - [0.95; -1.9])) < 1e-15 && isequal(g.get('zF'), 2 * g.get('z')), ...
          'Rate: leak and output_scale');
% Stateless (tau_m = 0): z = j + j_td, zF = relu(z).
st = RateCell('s', 2, 0, 'act_fx', 'relu', 'batch_size', 2);
st.set('j', [-1 2; 3 -4]');
st.set('j_td', [0.5 0.25; 0 0]');
st.advance();
T = check(T, isequal(st.get('z'), single([-0.5 2.25; 3 -4]')) && ...
          isequal(st.get('zF'), single([0 2.25; 3 0]')), 'Rate: stateless');
T = expect_error(T, @() RateCell('x', 2, 1, 'prior', {'nope', 0}), 'ngc:NGC_ERR_INVALID_ARGUMENT', 'nope');
T = expect_error(T, @() RateCell('x', 2, 1, 'threshold', {'cauchy_threshold', 0.1}), ...
                 'ngc:NGC_ERR_INVALID_ARGUMENT', 'cauchy_threshold');
T = expect_error(T, @() RateCell('x', 2, 1, 'prior', {1, 2}), 'ngc:usage', '{name, value}');
end

function make_and_drop()
c = BernoulliErrorCell('temporary', 4);
c.advance();
end

function T = check(T, ok, what)
if ok
    T.passed = T.passed + 1;
else
    T.failed = T.failed + 1;
    fprintf('FAIL: %s\n', what);
end
end

function T = expect_error(T, f, id, needle)
try
    f();
    T = check(T, false, sprintf('no error, wanted %s', id));
catch err
    ok = strcmp(err.identifier, id) && (isempty(needle) || ~isempty(strfind(err.message, needle)));
    T = check(T, ok, sprintf('wanted %s containing "%s", got %s: %s', id, needle, ...
                            err.identifier, err.message));
end
end
