function test_ngc_cells()
%TEST_NGC_CELLS Tests of the ngc_mex gateway and BernoulliErrorCell (MATLAB and Octave).
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
