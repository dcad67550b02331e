% PC_DEMO  Sparse coding of 8x8 bars: the main demo's model (examples/c/bars.c) in
% MATLAB or GNU Octave, through the MEX gateway. Every neuron is an ngc-cell; this
% script does the synapses only. Build the gateway first: build_ngc_mex.
%
%   x  stateless RateCell: clamps the images      e  GaussianErrorCell: dmu = x - mu
%   z  RateCell, 16 latents: euler, tau_m 5, Cauchy prior, relu, soft threshold
%   mu = W z.zF into e.mu;  z.j = W' e.dmu;  after settling: W += eta dmu zF'
%
% Values are copied in and out of the cells (set/get): the gateway binds no MATLAB
% array. Arrays are [n_units batch], ngc-learn's (batch, n_units). It prints the
% energy 0.5|x - W z|^2 per image each epoch, then the 16 causes it found as text.
side = 8; npix = side^2; nlat = 16; B = 32;
epochs = 12; batches = 20; steps = 40; eta = 0.2;
rng(7);
colnorm = @(W) W ./ sqrt(sum(W.^2, 1));
W = colnorm(rand(npix, nlat, 'single') - 0.5);

xc = RateCell('x', npix, 0, 'batch_size', B);                 % tau_m 0: stateless
zc = RateCell('z', nlat, 5, 'batch_size', B, 'prior', {'cauchy', 0.1}, ...
              'act_fx', 'relu', 'threshold', {'soft_threshold', 0.05});
ec = GaussianErrorCell('e', npix, 'batch_size', B, 'sigma', 1);

fprintf('epoch  energy 0.5|x - W z|^2 per image\n');
images = zeros(npix, B, 'single');
for epoch = 1:epochs
    energy = 0;
    for n = 1:batches
        for b = 1:B                      % each bar lit with probability 1/8
            on = rand(2 * side, 1) < 1 / side;
            img = zeros(side, 'single');
            img(on(1:side), :) = 1;
            img(:, on(side + 1:end)) = 1;
            images(:, b) = img(:);
        end
        xc.set('j', images);
        xc.advance();                    % clamp the data ...
        ec.set('target', xc.get('zF'));  % ... as e's target
        zc.reset();                      % latents at rest
        zf = zeros(nlat, B, 'single');
        for t = 0:steps
            ec.set('mu', W * zf);        % the prediction
            ec.advance(t, 1);
            dmu = ec.get('dmu');
            if t == steps, break; end
            zc.set('j', W' * dmu);       % the error, fed back
            zc.advance(t, 1);
            zf = zc.get('zF');
        end
        energy = energy - ec.loss() / B;
        W = colnorm(W + (eta / B) * (dmu * zf'));   % Hebbian
    end
    energies(epoch) = energy / batches;  %#ok<SAGROW>
    fprintf('%5d  %8.4f\n', epoch, energies(epoch));
end

marks = '.#';                            % '#': above half a unit-norm bar's weight
for row = 0:3
    for r = 1:side
        line = '';
        for t = 1:4
            tile = reshape(W(:, 4 * row + t), side, side);
            line = [line, marks((tile(r, :) > 0.5 / sqrt(8)) + 1), ' ']; %#ok<AGROW>
        end
        fprintf('%s\n', strtrim(line));
    end
    fprintf('\n');
end
if ~(energies(end) < energies(1) / 4)
    error('the energy did not fall fourfold: %s', mat2str(energies, 4));
end
