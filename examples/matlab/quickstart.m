% QUICKSTART  ngc-learn's own BernoulliErrorCell test through the MEX gateway
% (MATLAB or GNU Octave). Build the gateway first: build_ngc_mex (see its help).
%
% One unit, batch 1, probabilities, single precision, ten steps: the inputs of
% ngc-learn's test (numpy seed 42) and the dp ngc-learn 3.2.3 computes.
p_in = single([0.49671414, -0.13826430, 0.64768857, 1.5230298, -0.23415338, ...
               -0.23413695, 1.5792128, 0.76743472, -0.46947438, 0.54256004]);
dp_ref = single([-2.8193381, -4976.9263, -2.1224928, -2939.0425, -1233.3916, ...
                 -0.24662945, -708.30042, 0.28213939, 3550.8477, 1.3651246]);

fprintf('%s\n', ngc_mex('version'));
cell0 = BernoulliErrorCell('z0', 1);     % 1 unit, batch 1, 'single'
marks = {'MISMATCH', 'ok'};
for t = 0:9
    cell0.set('p', p_in(t + 1));         % values are copied in ...
    cell0.set('target', (t - 5) / 2);
    cell0.advance(t, 1);
    dp = cell0.get('dp');                % ... and out
    ok = abs(dp - dp_ref(t + 1)) <= 1e-3 + 1e-5 * abs(dp_ref(t + 1));
    fprintf('t=%d  dp=%14.7f  (ngc-learn %14.7f)  L=%10.6f  %s\n', t, dp, ...
            dp_ref(t + 1), cell0.loss(), marks{ok + 1});
    if ~ok, error('step %d differs from ngc-learn', t); end
end

try
    cell0.set('q', 1);                   % no such compartment
catch err
    fprintf('caught %s: %s\n', err.identifier, err.message);
end
delete(cell0);                           % or let it go out of scope
fprintf('all 10 steps match ngc-learn\n');

